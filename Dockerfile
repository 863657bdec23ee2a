# The services on the official Deno image. Each container runs one service
# in its own process (tools/exec.sh), under the permission set the launcher
# derives for it (the brokers and database of its settings, its own data
# folder).
FROM denoland/deno:2.9.6
WORKDIR /app
COPY deno.json deno.lock ./
COPY contracts/ contracts/
COPY lib/ lib/
COPY services/ services/
COPY tools/ tools/
RUN deno install --frozen && deno cache services/*.ts tools/launcher.ts
# /run/shop: where the setup container leaves each service's URLs (a volume
# takes this folder's owner).
RUN mkdir -p /data /run/shop && chown deno:deno /data /run/shop
USER deno
ENV DATA_DIR=/data
# The back office (deno task office) serves here.
EXPOSE 8000
ENTRYPOINT ["sh", "tools/exec.sh"]
CMD ["billing"]
