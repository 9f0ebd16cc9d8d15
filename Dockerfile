# Switchboard container: a static-ish binary (cgo for SQLite) on Debian slim.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -o /out/switchboard ./cmd/switchboard

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* && useradd -r -u 10001 switchboard \
 && mkdir -p /var/lib/switchboard && chown switchboard /var/lib/switchboard
COPY --from=build /out/switchboard /usr/local/bin/switchboard
# The example configuration and its IVR flows (ivr.flows_dir: flows).
COPY configs/switchboard.yaml /etc/switchboard/switchboard.yaml
COPY configs/flows /etc/switchboard/flows
USER switchboard
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/switchboard"]
CMD ["serve", "--config", "/etc/switchboard/switchboard.yaml"]
