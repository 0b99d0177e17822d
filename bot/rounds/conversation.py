"""A model player's own conversation of a round, from its point of view."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.players.base import ChatRequest, Message, TurnHint


@dataclass(slots=True)
class Conversation:
    """System prompt plus alternating user/assistant messages, sent whole each turn.

    Consecutive user messages are merged so every provider sees strict alternation
    (Anthropic and Gemini require it); the model's own replies are assistant messages.
    """

    system: str
    messages: list[Message] = field(default_factory=list)

    def user(self, text: str) -> None:
        """Append a user message, merged into the last one if that is a user message too."""
        if self.messages and self.messages[-1].role == "user":
            merged = self.messages[-1].content + "\n\n" + text
            self.messages[-1] = Message("user", merged)
        else:
            self.messages.append(Message("user", text))

    def assistant(self, text: str) -> None:
        """Append the model's reply as an assistant message (an empty reply as ``…``)."""
        # An empty reply is still the model's turn; providers reject empty content.
        self.messages.append(Message("assistant", text or "…"))

    def request(self, hint: TurnHint | None = None, purpose: str = "turn") -> ChatRequest:
        """The whole conversation so far as one request, with ``hint`` and ``purpose``."""
        return ChatRequest(self.system, tuple(self.messages), hint, purpose)

    def fork(self) -> Conversation:
        """A copy for a probe: what happens in it never enters the game conversation."""
        return Conversation(self.system, list(self.messages))
