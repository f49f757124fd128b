# kaidian in a container: a static binary (pure Go: modernc SQLite, no
# cgo) on a small base. Not built by CI (the CI machine has no Docker
# engine); the build steps are the same as `go build` with CGO_ENABLED=0.
#   docker build -t kaidian .
#   docker run -p 8080:8080 -v kaidian-data:/data -e KAIDIAN_ADMIN_PASSWORD=change-me kaidian
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags "-X github.com/kaidian/kaidian/internal/server.Version=${VERSION}" \
    -o /out/kaidian ./cmd/kaidian

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/kaidian /kaidian
ENV KAIDIAN_ADDR=0.0.0.0:8080 KAIDIAN_DATA=/data
VOLUME /data
EXPOSE 8080
USER nonroot
ENTRYPOINT ["/kaidian"]
CMD ["serve"]
