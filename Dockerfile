# Dockerfile - pgapply in a FROM-scratch image (docs/DEPLOY.md).
#
#   make image                  # podman or docker; see scripts/image.sh
#   docker build -t pgapply:0.1.0 .
#   docker run --rm --read-only -v "$PWD/bundles:/bundles:ro" \
#       -e DATABASE_URL=postgres://user@db:5432/app pgapply:0.1.0 \
#       apply /bundles/app-13.pgb --pubkey /bundles/app.pub
#
# The build stage runs "make static" on Debian 12, which builds libpq from
# Debian's postgresql-15 source package (scripts/build-static.sh) and links
# pgapply with no shared libraries.  The final image holds the binary, the
# CA bundle, and passwd/group lines for the numeric user it runs as; it has
# no shell, no package manager and nothing else.
#
# BASE is any Debian 12 image with working apt sources: the official one
# by default, or one made offline with mmdebstrap ("make image" does that
# when no registry answers).

ARG BASE=debian:bookworm-slim
FROM ${BASE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	build-essential pkg-config dpkg-dev ca-certificates file \
	libpq-dev libssl-dev zlib1g-dev libarchive-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# libpq first, from the script alone: this layer is rebuilt only when the
# script changes, not on every change to the sources.
COPY scripts/build-static.sh scripts/
RUN sh scripts/build-static.sh build/static \
 && rm -rf /var/lib/apt/lists/*
COPY . .
# -o: the libraries above came from this same script, whatever time COPY
# gave the file.
RUN make -o build/static/.done static \
 && ! ldd bin/pgapply-static \
 && bin/pgapply-static --version \
 && mkdir -p /out/etc \
 && echo 'pgapply:x:65532:65532:pgapply:/nonexistent:/sbin/nologin' \
	>/out/etc/passwd \
 && echo 'pgapply:x:65532:' >/out/etc/group

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /out/etc/passwd /out/etc/group /etc/
COPY --from=build /src/bin/pgapply-static /pgapply
USER 65532:65532
ENTRYPOINT ["/pgapply"]
CMD ["--help"]
