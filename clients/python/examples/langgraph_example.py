"""A LangGraph graph whose state lives in agentstore (DATABASE_URL names a
database with CREATE EXTENSION agentstore)."""

import operator
import os
from typing import Annotated

from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt
from typing_extensions import TypedDict

from agentstore.langgraph import AgentstoreSaver


class State(TypedDict):
    notes: Annotated[list[str], operator.add]


def draft(state: State) -> dict:
    return {"notes": ["draft written"]}


def review(state: State) -> dict:
    verdict = interrupt("approve the draft?")  # waits for a human, across processes
    return {"notes": [f"review: {verdict}"]}


builder = StateGraph(State)
builder.add_node("draft", draft)
builder.add_node("review", review)
builder.add_edge(START, "draft")
builder.add_edge("draft", "review")
builder.add_edge("review", END)

with AgentstoreSaver.from_conn_string(os.environ["DATABASE_URL"], ttl="30 days") as saver:
    saver.setup()  # checks that the extension is installed
    graph = builder.compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "example-thread"}}
    saver.delete_thread("example-thread")  # start afresh on every run of the example

    first = graph.invoke({"notes": []}, config)
    print("paused:", first["__interrupt__"][0].value)
    final = graph.invoke(Command(resume="approved"), config)
    print("notes:", final["notes"])
    print("checkpoints:", len(list(saver.list(config))))
