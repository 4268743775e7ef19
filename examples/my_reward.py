#!/usr/bin/env python3
"""my_reward.py: an example long-running reward server for rlvr.

Configure it with   reward.cmd="python3 examples/my_reward.py"

rlvr starts this program once and keeps it running. For every completion to score it
writes ONE JSON request per line on our stdin:

    {"id": 7, "prompt": "...", "completion": "...", "reference": "...",
     "data_source": "...", "extra": {...}}

and expects ONE JSON answer per line on our stdout, with the same id:

    {"id": 7, "reward": 1.0}

Answers may come in any order (match them by id), and extra numeric fields are allowed
(they are ignored). Rules that keep the conversation healthy:
  * print nothing else on stdout: debug output goes to stderr (rlvr shows its tail in
    error messages);
  * flush after every answer (print(..., flush=True)), or rlvr waits forever (until its
    timeout);
  * exit when stdin reaches end of file: that is how rlvr asks us to stop.
If this program crashes, rlvr restarts it and resends the unanswered requests.

The reward here: 1.0 when the reference string (stripped) appears in the completion,
else 0.0. Replace score() with your own check.
"""
import json
import sys


def score(prompt, completion, reference, data_source, extra):
    """Returns the reward for one completion (a float)."""
    ref = reference.strip()
    return 1.0 if ref and ref in completion else 0.0


def main():
    # readline() returns as soon as a whole line has arrived (no read-ahead waiting).
    while True:
        line = sys.stdin.readline()
        if not line:                  # end of file: rlvr is shutting us down
            break
        if not line.strip():
            continue
        req = json.loads(line)
        reward = score(req.get("prompt", ""), req.get("completion", ""),
                       req.get("reference", ""), req.get("data_source", ""),
                       req.get("extra", {}))
        print(json.dumps({"id": req["id"], "reward": reward}), flush=True)


if __name__ == "__main__":
    main()
