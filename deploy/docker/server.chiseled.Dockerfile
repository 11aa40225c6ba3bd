# syntax=docker/dockerfile:1
# Greeter server on Ubuntu chiseled (glibc, distroless: no shell, no package manager), framework-dependent.
# Build context: the repository root.
#   docker build -f deploy/docker/server.chiseled.Dockerfile -t greeter-server:latest .
# No shell in the image: the Deployment's preStop must use the native `sleep` action, not `exec: sleep`.

FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_NOLOGO=1
WORKDIR /src

COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY examples/Greeter.Server/Greeter.Server.csproj examples/Greeter.Server/
RUN dotnet restore examples/Greeter.Server/Greeter.Server.csproj -r linux-x64

COPY examples/Protos/ examples/Protos/
COPY examples/Greeter.Server/ examples/Greeter.Server/
RUN dotnet publish examples/Greeter.Server/Greeter.Server.csproj -c Release -r linux-x64 --self-contained false \
    --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled AS final
WORKDIR /app
COPY --from=build /app ./
EXPOSE 50051
USER $APP_UID
ENTRYPOINT ["dotnet", "Greeter.Server.dll"]
