import { answerOnce } from '../../workers/one-shot-worker';
import { conceptFilters } from '../concept-filters';
import type { ConceptFilterInput } from '../classifier-runner';

// One search per worker: the parent posts the samples' filter activations, gets the association, and ends the thread.
answerOnce((input: ConceptFilterInput) => conceptFilters(input.activations, input.isConcept, input.count, { seed: input.seed }));
