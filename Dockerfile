# The services on the official Deno image. Each container runs one program
# through the launcher, which starts it under its derived permission set
# (the brokers and database of its settings, its own data folder).
FROM denoland/deno:2.9.6
WORKDIR /app
COPY deno.json deno.lock ./
COPY contracts/ contracts/
COPY lib/ lib/
COPY services/ services/
COPY tools/ tools/
RUN deno install --frozen && deno cache services/*.ts tools/launcher.ts
RUN mkdir -p /data && chown deno:deno /data
USER deno
ENV DATA_DIR=/data
ENTRYPOINT ["deno", "run", "--allow-run", "--allow-env", "--allow-net", "--allow-read", "tools/launcher.ts", "run"]
CMD ["billing"]
