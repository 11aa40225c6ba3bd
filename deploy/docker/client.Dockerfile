# syntax=docker/dockerfile:1
# Greeter client (uses the Reactive.K8sLb library) on Alpine (musl), framework-dependent.
# Build context: the repository root.
#   docker build -f deploy/docker/client.Dockerfile -t greeter-client:latest .

FROM mcr.microsoft.com/dotnet/sdk:10.0-alpine AS build
# Grpc.Tools' bundled protoc/grpc_csharp_plugin are glibc builds: use Alpine's (see server.Dockerfile).
RUN apk add --no-cache protoc grpc-plugins
ENV PROTOBUF_PROTOC=/usr/bin/protoc \
    GRPC_PROTOC_PLUGIN=/usr/bin/grpc_csharp_plugin \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_NOLOGO=1
WORKDIR /src

COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY Reactive.K8sLb/Reactive.K8sLb.csproj Reactive.K8sLb/
COPY examples/Greeter.Client/Greeter.Client.csproj examples/Greeter.Client/
RUN dotnet restore examples/Greeter.Client/Greeter.Client.csproj -r linux-musl-x64

COPY Reactive.K8sLb/ Reactive.K8sLb/
COPY examples/Protos/ examples/Protos/
COPY examples/Greeter.Client/ examples/Greeter.Client/
RUN dotnet publish examples/Greeter.Client/Greeter.Client.csproj -c Release -r linux-musl-x64 --self-contained false \
    --no-restore -o /app

FROM mcr.microsoft.com/dotnet/runtime:10.0-alpine AS final
WORKDIR /app
COPY --from=build /app ./
# Non-root "app" user (uid 1654); the Job mounts the ServiceAccount token it reads.
USER $APP_UID
ENTRYPOINT ["dotnet", "Greeter.Client.dll"]
