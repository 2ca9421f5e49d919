"""Write frontend/src/api-types.ts: the backend's answers as TypeScript, generated from the
backend's OpenAPI document by openapi-typescript (frontend's devDependencies).

    .venv/bin/python scripts/gen_frontend_types.py           # (re)write the file
    .venv/bin/python scripts/gen_frontend_types.py --check   # exit 1 if it is out of date

The document is the app's own (`create_app().openapi()`), taken without a server and with no
release loaded, so it holds every response model and the templated predict path. Needs
`npm ci` in frontend/ once (the frontend tests' build runs it).
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TYPES = ROOT / "frontend" / "src" / "api-types.ts"
GENERATOR = ROOT / "frontend" / "node_modules" / ".bin" / "openapi-typescript"
COMMAND = ".venv/bin/python scripts/gen_frontend_types.py"


def openapi_document() -> dict[str, object]:
    """The backend's OpenAPI document, with no release loaded and nothing started."""
    from hubship.config import Settings
    from hubship.serving.app import create_app

    logging.disable(logging.WARNING)  # the unsigned-releases warning: not news here
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(hf_endpoint="http://127.0.0.1:9", hf_repo_id="example/models",
                            hubship_home=Path(home))
        return create_app(settings).openapi()


def generate() -> str:
    """api-types.ts as openapi-typescript writes it for the current document."""
    if not GENERATOR.exists():
        sys.exit(f"{GENERATOR} is missing: run `npm ci` in {ROOT / 'frontend'} first")
    with tempfile.TemporaryDirectory() as work:
        document, output = Path(work) / "openapi.json", Path(work) / "api-types.ts"
        document.write_text(json.dumps(openapi_document(), indent=1))
        subprocess.run([str(GENERATOR), str(document), "--output", str(output)],
                       check=True, capture_output=True, cwd=ROOT / "frontend")
        return ("// Generated from the backend's OpenAPI document: do not edit; run\n"
                f"// `{COMMAND}`.\n" + output.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 when the file differs from the generated one")
    args = parser.parse_args()
    types = generate()
    current = TYPES.read_text() if TYPES.exists() else None
    if args.check:
        if current != types:
            sys.exit(f"{TYPES.relative_to(ROOT)} is out of date with the backend's answers "
                     f"(hubship/serving/answers.py): run `{COMMAND}` and commit the result")
        print(f"{TYPES.relative_to(ROOT)} is up to date")
        return
    if current != types:
        TYPES.write_text(types)
    print(f"wrote {TYPES.relative_to(ROOT)}" if current != types
          else f"{TYPES.relative_to(ROOT)} was up to date")


if __name__ == "__main__":
    main()
