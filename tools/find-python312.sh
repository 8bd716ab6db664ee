#!/bin/sh
# Prints the path of a working Python 3.12 interpreter (the function's Cloud Functions runtime),
# or nothing. pyenv shims answer "command not found" for versions that are not selected, so each
# candidate is run, not just looked up.
for candidate in python3.12 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12; do
  if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then
    "$candidate" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done
