# The Splicer console (and, with another command, the fleet simulator): see docker-compose.yml.
FROM node:20-bookworm-slim

ENV NEXT_TELEMETRY_DISABLED=1 \
    CHECKPOINT_DISABLE=1 \
    PRISMA_HIDE_UPDATE_MESSAGE=1

WORKDIR /app
RUN chown node:node /app
USER node

# Dependencies first, so editing the sources does not reinstall them. --ignore-scripts: no
# dependency needs its install script (Prisma's would download native engines we never run;
# esbuild finds its binary through its optional dependency), and our own postinstall (the
# Prisma client) is part of `npm run build` below, once the schema is copied in.
COPY --chown=node:node package.json package-lock.json ./
RUN npm ci --ignore-scripts

COPY --chown=node:node . .
# Prisma client, Next production build, agent bundle (served to hosts at /api/v1/agent/bundle).
RUN npm run build \
 && mkdir -p .data/fleet-sim

# The build above is complete: skip start's "rebuild when sources are newer" check.
# npm runs scripts through /bin/sh, which here (dash) does not exec the command: `docker stop`'s
# SIGTERM would reach npm and sh but never the console, which then dies without closing. bash
# execs a script's single command, so npm's SIGTERM goes straight to the console (checked: clean
# stop in ~1.5 s). The embedded PostgreSQL is unusable in this image (its install script was
# skipped) and not needed: DATABASE_URL is always set here.
ENV npm_config_script_shell=/bin/bash \
    NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    SPLICER_SKIP_BUILD_CHECK=1
EXPOSE 3000
CMD ["npm", "start"]
