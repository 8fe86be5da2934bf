"""Child process that hosts one JVM and one KoNLPy analyzer; speaks JSON lines on stdin/stdout.

Started by ``KonlpyPool`` with ``python -m nlprnn.tokenizers._konlpy_worker NAME POS``. Running the
analyzer in its own process keeps the JVM out of the user's process (which may fork DataLoader
workers later) and lets the parent kill a text that runs too long.
"""

from __future__ import annotations

import json
import os
import sys


def _make_tagger(name: str):  # type: ignore[no-untyped-def]
    from konlpy import tag

    classes = {"kkma": tag.Kkma, "okt": tag.Okt, "komoran": tag.Komoran}
    return classes[name]()


def main() -> int:
    name, pos = sys.argv[1], sys.argv[2] == "1"
    # the protocol gets its own copy of stdout; file descriptor 1 then points at stderr (the parent's log),
    # so whatever the JVM prints there (start-up errors, "Picked up _JAVA_OPTIONS") cannot break it
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        tagger = _make_tagger(name)
        tagger.morphs("준비")  # loads the dictionaries now, not on the first real text
    except Exception as error:  # the parent turns this into TokenizerUnavailableError
        out.write(json.dumps({"error": f"{type(error).__name__}: {error}"}) + "\n")
        out.flush()
        return 1
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        for text in json.loads(line):
            try:
                if not text.strip():
                    tokens: list[str] = []
                elif pos:
                    tokens = [f"{word}/{tag}" for word, tag in tagger.pos(text)]
                else:
                    tokens = tagger.morphs(text)
                reply: object = tokens
            except Exception as error:
                reply = {"error": f"{type(error).__name__}: {error}"}
            out.write(json.dumps(reply, ensure_ascii=False) + "\n")
            out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
