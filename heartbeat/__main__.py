"""``python -m heartbeat``: as the console script, but exits the ordinary way.

(Profilers and tracers that save their data when the module returns, such as
``python -m cProfile -m heartbeat``, see the whole run.)
"""

from __future__ import annotations

from heartbeat.cli import main

if __name__ == "__main__":
    main()
