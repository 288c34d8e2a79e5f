import { answerOnce } from '../../workers/one-shot-worker';
import { computeMetrics, type MetricsInput } from '../compute-metrics';

// One computation per worker: the parent posts one MetricsInput, gets one reply, and ends the thread.
answerOnce((input: MetricsInput) => computeMetrics(input));
