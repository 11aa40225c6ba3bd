# syntax=docker/dockerfile:1
# Greeter server on Alpine (musl), framework-dependent.
# Build context: the repository root.
#   docker build -f deploy/docker/server.Dockerfile -t greeter-server:latest .

FROM mcr.microsoft.com/dotnet/sdk:10.0-alpine AS build
# Grpc.Tools bundles glibc builds of protoc and grpc_csharp_plugin, which do not run on musl: use Alpine's
# own (grpc/grpc#18338). Alternative: build in a glibc SDK image (sdk:10.0) and still publish linux-musl-x64.
RUN apk add --no-cache protoc grpc-plugins
ENV PROTOBUF_PROTOC=/usr/bin/protoc \
    GRPC_PROTOC_PLUGIN=/usr/bin/grpc_csharp_plugin \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_NOLOGO=1
WORKDIR /src

# Restore first, from the project files only, so the layer is cached across source edits.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY examples/Greeter.Server/Greeter.Server.csproj examples/Greeter.Server/
RUN dotnet restore examples/Greeter.Server/Greeter.Server.csproj -r linux-musl-x64

COPY examples/Protos/ examples/Protos/
COPY examples/Greeter.Server/ examples/Greeter.Server/
RUN dotnet publish examples/Greeter.Server/Greeter.Server.csproj -c Release -r linux-musl-x64 --self-contained false \
    --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0-alpine AS final
WORKDIR /app
COPY --from=build /app ./
EXPOSE 50051
# Non-root "app" user (uid 1654) defined by the .NET images; matches runAsUser in server-deployment.yaml.
USER $APP_UID
ENTRYPOINT ["dotnet", "Greeter.Server.dll"]
