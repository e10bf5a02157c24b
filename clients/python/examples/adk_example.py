"""Google ADK sessions in agentstore (DATABASE_URL names a database with
CREATE EXTENSION agentstore)."""

import asyncio
import os
import time

from google.adk.events.event import Event
from google.adk.events.event_actions import EventActions
from google.adk.sessions.base_session_service import GetSessionConfig
from google.genai import types

from agentstore.adk import AgentstoreSessionService


async def main() -> None:
    async with AgentstoreSessionService.from_conn_string(os.environ["DATABASE_URL"]) as service:
        await service.setup()  # checks that the extension is installed
        await service.delete_session(app_name="shop", user_id="ada", session_id="cart")
        session = await service.create_session(
            app_name="shop", user_id="ada", session_id="cart",
            state={"items": [], "user:currency": "EUR"},
        )
        event = Event(
            invocation_id="inv-1",
            author="user",
            content=types.Content(role="user", parts=[types.Part(text="add a book")]),
            actions=EventActions(state_delta={"items": ["book"], "temp:draft": "not stored"}),
            timestamp=time.time(),
        )
        await service.append_event(session, event)
        stored = await service.get_session(
            app_name="shop", user_id="ada", session_id="cart",
            config=GetSessionConfig(num_recent_events=10),
        )
        print("state:", stored.state)
        print("events:", [e.content.parts[0].text for e in stored.events])
        # With a Runner: Runner(agent=..., app_name="shop", session_service=service)


asyncio.run(main())
