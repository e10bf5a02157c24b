"""A real ADK Runner with an LlmAgent driven by a scripted fake model (a
BaseLlm subclass: a tool call, then a text answer, each turn), over several
turns and two users, on InMemorySessionService and on
AgentstoreSessionService: what the agentstore service stored must be what
ADK's own service holds, and what the rules say."""

import uuid
from typing import AsyncGenerator

import pytest
from google.adk.agents.llm_agent import LlmAgent
from google.adk.models.base_llm import BaseLlm
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.adk.runners import Runner
from google.adk.sessions.in_memory_session_service import InMemorySessionService
from google.adk.tools.tool_context import ToolContext
from google.genai import types
from psycopg import AsyncConnection

from agentstore.adk import AgentstoreSessionService


class ScriptedLlm(BaseLlm):
    """Asks for the weather tool when the user names a city, answers with the
    tool's result once it is there."""

    model: str = "scripted"
    calls: int = 0

    async def generate_content_async(
        self, llm_request: LlmRequest, stream: bool = False
    ) -> AsyncGenerator[LlmResponse, None]:
        self.calls += 1
        last = llm_request.contents[-1]
        part = last.parts[0]
        if part.function_response is not None:
            result = part.function_response.response
            text = f"It is {result['forecast']} in {result['city']}."
            yield LlmResponse(content=types.Content(role="model", parts=[types.Part(text=text)]))
            return
        city = (part.text or "").removeprefix("weather in ").strip()
        yield LlmResponse(
            content=types.Content(
                role="model",
                parts=[
                    types.Part(
                        function_call=types.FunctionCall(
                            id=f"call-{self.calls}", name="get_weather", args={"city": city}
                        )
                    )
                ],
            )
        )


def get_weather(city: str, tool_context: ToolContext) -> dict:
    """The weather of a city."""
    tool_context.state["user:last_city"] = city
    tool_context.state["app:lookups"] = tool_context.state.get("app:lookups", 0) + 1
    tool_context.state["temp:raw"] = f"raw data for {city}"
    tool_context.state["cities"] = tool_context.state.get("cities", []) + [city]
    return {"city": city, "forecast": "sunny" if len(city) % 2 else "rainy"}


TURNS = {
    "alice": ["weather in Paris", "weather in Oslo", "weather in Lima"],
    "bob": ["weather in Rome", "weather in Kyiv"],
}


async def converse(service, app: str) -> dict:
    agent = LlmAgent(
        name="forecaster",
        model=ScriptedLlm(),
        instruction="Answer weather questions with the tool.",
        tools=[get_weather],
        output_key="last_answer",
    )
    runner = Runner(agent=agent, app_name=app, session_service=service)
    seen = {}
    for user, messages in TURNS.items():
        session = await service.create_session(app_name=app, user_id=user, session_id=f"s-{user}")
        replies = []
        for text in messages:
            msg = types.Content(role="user", parts=[types.Part(text=text)])
            async for ev in runner.run_async(user_id=user, session_id=session.id, new_message=msg):
                if ev.is_final_response() and ev.content and ev.content.parts:
                    replies.append(ev.content.parts[0].text)
        seen[user] = replies
    stored = {}
    for user in TURNS:
        s = await service.get_session(app_name=app, user_id=user, session_id=f"s-{user}")
        stored[user] = {
            "state": s.state,
            "events": [
                (
                    e.author,
                    [
                        p.text
                        or (p.function_call and ("call", p.function_call.name, p.function_call.args))
                        or (p.function_response and ("response", p.function_response.name, p.function_response.response))
                        for p in (e.content.parts if e.content else [])
                    ],
                    {k: v for k, v in (e.actions.state_delta or {}).items()},
                )
                for e in s.events
            ],
            "ids_unique": len({e.id for e in s.events}) == len(s.events),
            "ordered": all(a.timestamp <= b.timestamp for a, b in zip(s.events, s.events[1:])),
        }
    listed = await service.list_sessions(app_name=app)
    return {
        "replies": seen,
        "stored": stored,
        "listed": sorted((s.user_id, s.id) for s in listed.sessions),
        "user_state": {u: await service.get_user_state(app_name=app, user_id=u) for u in TURNS},
    }


@pytest.fixture
async def agentstore_service(dsn):
    async with await AsyncConnection.connect(dsn, autocommit=True) as conn:
        yield AgentstoreSessionService(conn)


async def test_runner_conversation_matches_in_memory(agentstore_service):
    app = f"weather-{uuid.uuid4().hex[:8]}"
    expected = await converse(InMemorySessionService(), app)
    got = await converse(agentstore_service, app)
    assert got == expected


async def test_runner_conversation_stored(agentstore_service):
    app = f"weather-{uuid.uuid4().hex[:8]}"
    result = await converse(agentstore_service, app)
    assert result["replies"] == {
        "alice": ["It is sunny in Paris.", "It is rainy in Oslo.", "It is rainy in Lima."],
        "bob": ["It is rainy in Rome.", "It is rainy in Kyiv."],
    }
    alice = result["stored"]["alice"]
    # user message, tool call, tool response, answer: four events a turn
    assert len(alice["events"]) == 12 and alice["ids_unique"] and alice["ordered"]
    assert [e[0] for e in alice["events"][:4]] == ["user", "forecaster", "forecaster", "forecaster"]
    assert alice["events"][1][1] == [("call", "get_weather", {"city": "Paris"})]
    assert alice["state"] == {
        "cities": ["Paris", "Oslo", "Lima"],
        "last_answer": "It is rainy in Lima.",
        "user:last_city": "Lima",
        "app:lookups": 5,
    }
    assert result["stored"]["bob"]["state"] == {
        "cities": ["Rome", "Kyiv"],
        "last_answer": "It is rainy in Kyiv.",
        "user:last_city": "Kyiv",
        "app:lookups": 5,
    }
    # temp: state was never stored, in no event either
    for user in TURNS:
        for _, _, delta in result["stored"][user]["events"]:
            assert not any(k.startswith("temp:") for k in delta)
    assert result["user_state"] == {"alice": {"last_city": "Lima"}, "bob": {"last_city": "Kyiv"}}
    assert result["listed"] == [("alice", "s-alice"), ("bob", "s-bob")]
