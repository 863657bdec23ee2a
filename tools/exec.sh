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
# A secret in a file (AMQP_URL_FILE, DATABASE_URL_FILE) is read to derive
# the network permission: that file, and no other.
read=""
for file in "${AMQP_URL_FILE-}" "${DATABASE_URL_FILE-}"; do
  if [ -n "$file" ]; then read="${read:+$read,}$file"; fi
done
line=$(deno run --allow-env ${read:+--allow-read="$read"} --no-prompt tools/exec_line.ts "$name" "$@")
eval "$line"
