// LangGraph's published conformance suite, run against AgentstoreSaver:
// validate() is the whole default suite; getDeltaChannelHistory's tests are
// opt-in there (they replay pending writes, so they check the order of
// pendingWrites and the parent chain) and are run too.
import {
  deltaChannelHistoryTests,
  validate,
} from "@langchain/langgraph-checkpoint-validation";
import { initializer } from "./initializer.js";

validate(initializer);
deltaChannelHistoryTests(initializer);
