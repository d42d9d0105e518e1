"""A realistic mix against the memory service's HTTP API.

Each simulated user opens a session, then, with a think time between calls,
reads its session, writes and reads a memory of its own, appends events and
searches the documents.  The API key comes from ``PRODREADY_API_KEY``; the
think time from ``MEMORY_API_THINK_S`` ("min,max" seconds, default
"0.5,1.5").
"""

from __future__ import annotations

import os
import random
import uuid

from locust import FastHttpUser, between, task

THINK_MIN_S, THINK_MAX_S = (float(part) for part in os.environ.get("MEMORY_API_THINK_S", "0.5,1.5").split(","))
QUERIES = ("memory consolidation", "session state", "task execution", "authentication notes", "search ranking")


class MemoryApiUser(FastHttpUser):
    wait_time = between(THINK_MIN_S, THINK_MAX_S)

    def on_start(self) -> None:
        self.headers = {"X-API-Key": os.environ.get("PRODREADY_API_KEY", ""), "Content-Type": "application/json"}
        self.user_id = uuid.uuid4().hex[:12]
        self.session_id = f"load-{self.user_id}"
        self.memory_url = f"/memory/user:{self.user_id}:notes/context"
        self.has_memory = False
        self.client.post("/sessions", json={"id": self.session_id, "app_name": "load", "user_id": self.user_id},
                         headers=self.headers, name="/sessions")

    @task(4)
    def read_session(self) -> None:
        self.client.get(f"/sessions/{self.session_id}", headers=self.headers, name="/sessions/[id]")

    @task(4)
    def read_memory(self) -> None:
        if not self.has_memory:
            self.write_memory()
            return
        self.client.get(self.memory_url, headers=self.headers, name="/memory/[ns]/[key]")

    @task(2)
    def write_memory(self) -> None:
        body = {"value": {"note": random.random()}, "memory_type": "semantic"}
        if self.has_memory:
            self.client.put(self.memory_url, json=body, headers=self.headers, name="/memory/[ns]/[key] update")
            return
        with self.client.post(self.memory_url, json=body, headers=self.headers, name="/memory/[ns]/[key] create",
                              catch_response=True) as response:
            self.has_memory = response.status_code == 201
            if not self.has_memory:
                response.failure(f"create answered {response.status_code}")

    @task(1)
    def append_event(self) -> None:
        self.client.post(f"/sessions/{self.session_id}/events", json={"event": {"type": "message", "text": "hi"}},
                         headers=self.headers, name="/sessions/[id]/events")

    @task(1)
    def search(self) -> None:
        self.client.get("/search", params={"q": random.choice(QUERIES), "limit": 5}, headers=self.headers,
                        name="/search")
