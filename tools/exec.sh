#!/bin/sh
# deno task pos|billing|inventory: the service runs in this process, with
# nothing between it and the terminal: tools/exec_line.ts derives its
# permission flags from its command line (a short-lived process that reads
# only the services' declarations), and the shell is replaced by the service.
set -e
name=$1
shift
# `deno task billing -- --tax-rate 0.13` passes the "--" along.
if [ "${1-}" = "--" ]; then shift; fi
line=$(deno run --allow-env --no-prompt tools/exec_line.ts "$name" "$@")
eval "$line"
