# FaceIndex server image.
#   docker build -t faceindex .
#   docker run -p 50051:50051 -p 9090:9090 -v faceindex-data:/data faceindex
# The build stage fetches the pinned face models with the project's own script (npm pack + SHA-256
# checks, model-bundle/manifest.json), so the image holds them and nothing downloads at run time.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src

# Restore first, on the project files alone, so that the layer is reused while only sources change.
COPY FaceIndex.sln Directory.Build.props Directory.Packages.props global.json .editorconfig ./
COPY src/FaceIndex.Core/FaceIndex.Core.csproj src/FaceIndex.Core/
COPY src/FaceIndex.Vision/FaceIndex.Vision.csproj src/FaceIndex.Vision/
COPY src/FaceIndex.Index/FaceIndex.Index.csproj src/FaceIndex.Index/
COPY src/FaceIndex.Storage/FaceIndex.Storage.csproj src/FaceIndex.Storage/
COPY src/FaceIndex.Clustering/FaceIndex.Clustering.csproj src/FaceIndex.Clustering/
COPY src/FaceIndex.Server/FaceIndex.Server.csproj src/FaceIndex.Server/
COPY src/FaceIndex.Cli/FaceIndex.Cli.csproj src/FaceIndex.Cli/
RUN dotnet restore src/FaceIndex.Cli/FaceIndex.Cli.csproj

COPY model-bundle/ model-bundle/
COPY scripts/ scripts/
RUN bash scripts/fetch-models.sh

COPY protos/ protos/
COPY config/ config/
COPY src/ src/
RUN dotnet publish src/FaceIndex.Cli/FaceIndex.Cli.csproj -c Release --no-restore -o /app \
    && cp -r models /app/models

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
# SkiaSharp's native library needs fontconfig.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libfontconfig1 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app ./
RUN mkdir -p /data && chown "$APP_UID" /data

# Listen on every interface inside the container; data on the volume; models from the image.
ENV FACEINDEX__Server__Address=0.0.0.0 \
    FACEINDEX__Storage__DataDirectory=/data \
    FACEINDEX__Vision__ModelsDirectory=/app/models \
    DOTNET_gcServer=1
VOLUME ["/data"]
EXPOSE 50051 9090

# The base image's non-root user.
USER $APP_UID

HEALTHCHECK --interval=15s --timeout=6s --start-period=60s --retries=3 \
    CMD ["dotnet", "/app/faceindex.dll", "health", "--server", "http://127.0.0.1:50051"]

# SIGTERM (docker stop) drains running calls, writes the index snapshots and a store checkpoint.
STOPSIGNAL SIGTERM
ENTRYPOINT ["dotnet", "/app/faceindex.dll", "serve"]
