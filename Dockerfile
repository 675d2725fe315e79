# broker in a container: the single binary from `deno task compile` on a small base image.
#
#   docker build -t broker --build-arg BROKER_COMMIT=$(git rev-parse --short=12 HEAD) .
#   docker run -d --name broker -p 5672:5672 -p 15672:15672 -v broker-data:/var/lib/broker broker
#   docker exec broker broker user add admin secret --tags administrator
#
# The build stage runs on the build machine's platform and cross-compiles for the image's
# platform (TARGETARCH), so `docker buildx build --platform linux/amd64,linux/arm64` needs no
# emulation.

FROM --platform=$BUILDPLATFORM denoland/deno:2.9.6 AS build
ARG TARGETARCH
# The commit `broker --version` reports (the image has no git).
ARG BROKER_COMMIT=unknown
WORKDIR /src
COPY deno.json deno.lock main.ts ./
COPY src ./src
COPY scripts ./scripts
RUN case "${TARGETARCH:-amd64}" in \
      amd64) target=x86_64-unknown-linux-gnu ;; \
      arm64) target=aarch64-unknown-linux-gnu ;; \
      *) echo "unsupported TARGETARCH ${TARGETARCH}" >&2; exit 1 ;; \
    esac \
    && BROKER_COMMIT="${BROKER_COMMIT}" deno task compile --target "$target" --out-dir /out \
    && mv "/out/broker-$target" /out/broker \
    && mkdir -p /out/data

# glibc and libgcc, nothing else; runs as the image's nonroot user (uid 65532).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/broker /usr/local/bin/broker
# The data dir belongs to the broker's user, so a new named volume starts out writable.
COPY --from=build --chown=65532:65532 /out/data /var/lib/broker
# For `docker exec <container> broker user|vhost|permissions|list|status …`.
ENV BROKER_DATA_DIR=/var/lib/broker
USER 65532:65532
VOLUME ["/var/lib/broker"]
# AMQP, management HTTP API and UI, Prometheus metrics (RabbitMQ's port; metrics are planned).
EXPOSE 5672 15672 15692
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/broker", "status", "--data-dir", "/var/lib/broker"]
# Exec form: the broker is PID 1 and gets SIGTERM from `docker stop` itself; it then closes clients
# with 320 CONNECTION_FORCED, flushes and fsyncs the store and exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/broker"]
CMD ["serve", "--data-dir", "/var/lib/broker"]
