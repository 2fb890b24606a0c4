"""Stand-in agents for the fast test layer: ``codex`` and ``ralphy`` as Python modules.

``bin/`` holds the launchers tmux panes find on PATH. Every line a stand-in prints is a
template of its ``LINES`` table, and tests/test_standin_lines.py checks each template against
what the real, pinned release printed (``real_lines.txt``, and the real-agent transcripts).
"""
