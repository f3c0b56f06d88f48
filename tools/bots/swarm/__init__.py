"""A bot swarm: N players in S sessions play Q questions and measure what players feel,
from worker processes of their own (load from loopback only).

    python -m bots.swarm --players 200 --sessions 1 --questions 3   # against `make run`

`make bench` (tools/bench/e2e) drives the same swarm up a ladder of player counts, against the
local stack and against an in-memory python-socketio server. Bots speak the quiz
protocol over the game's client (bots.client, `gateway`) or over Socket.IO (`socketio`,
frames as the payload of a "frame" event), stamp every frame with the wall clock on
arrival, and decode only what they measure: a leaderboard is matched by its first bytes,
never parsed.

Per answer: sent, ACK, own SCORE_UPDATED (and the server stamps in them: the gateway's
receive time, the function's commit time), first LEADERBOARD_UPDATED of a window at or
after the commit; per question: QUESTION_STARTED arrival per player; per session: when
each leaderboard version first arrived.

- `plan`: what a run plays (the quiz, its sessions, the plan each worker gets);
- `bot`: one player, what it keeps of each frame and what it reports;
- `socketio`: the baseline's transport (Engine.IO, another protocol);
- `workers`: the worker processes and how their measurements are merged;
- `__main__`: the command line, against a running stack.
"""
