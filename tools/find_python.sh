#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter: Rasa 3.6 runs on 3.8-3.10, not 3.11.
# Looks at $PYTHON, then python3.10 on the PATH, then pyenv's installed 3.10.x versions.
set -u
works() { "$1" -c 'import sys, venv; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; }
for candidate in "${PYTHON:-}" python3.10; do
  [ -n "$candidate" ] || continue
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if works "$path"; then echo "$path"; exit 0; fi
done
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.[0-9]+)?$' | sort -t. -k3 -n -r); do
    path="$root/versions/$v/bin/python3.10"
    if works "$path"; then echo "$path"; exit 0; fi
  done
fi
echo "error: Python 3.10 not found. Rasa 3.6 needs Python 3.8-3.10 (not 3.11)." >&2
echo "Install it (e.g. 'pyenv install 3.10.13' or your system's python3.10 package)," >&2
echo "or point to one with: make PYTHON=/path/to/python3.10 ..." >&2
exit 1
