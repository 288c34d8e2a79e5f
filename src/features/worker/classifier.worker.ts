import { answerOnce } from '../../workers/one-shot-worker';
import { evaluateLinearClassifier, type ClassifierEvaluationInput } from '../classifier-evaluation';

// One request per worker: the parent posts the inputs, gets one evaluation per input, and ends the thread.
answerOnce((inputs: ClassifierEvaluationInput[]) => inputs.map(evaluateLinearClassifier));
