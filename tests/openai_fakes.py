"""What a fake OpenAI-compatible server (a stdlib HTTP server in a test) sends back for a chat request."""

from __future__ import annotations

import json


def send_chat_completion(handler, content: str, model: str = "m") -> None:
    """Answer ``handler``'s request with one finished chat completion whose text is ``content``."""
    body = json.dumps(
        {
            "id": "c", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        }
    ).encode()  # fmt: skip
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
