# syntax=docker/dockerfile:1
# Greeter client (uses the Reactive.K8sLb library) on Ubuntu chiseled (glibc, distroless), framework-dependent.
# Build context: the repository root.
#   docker build -f deploy/docker/client.chiseled.Dockerfile -t greeter-client:latest .

FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_NOLOGO=1
WORKDIR /src

COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY Reactive.K8sLb/Reactive.K8sLb.csproj Reactive.K8sLb/
COPY examples/Greeter.Client/Greeter.Client.csproj examples/Greeter.Client/
RUN dotnet restore examples/Greeter.Client/Greeter.Client.csproj -r linux-x64

COPY Reactive.K8sLb/ Reactive.K8sLb/
COPY examples/Protos/ examples/Protos/
COPY examples/Greeter.Client/ examples/Greeter.Client/
RUN dotnet publish examples/Greeter.Client/Greeter.Client.csproj -c Release -r linux-x64 --self-contained false \
    --no-restore -o /app

FROM mcr.microsoft.com/dotnet/runtime:10.0-noble-chiseled AS final
WORKDIR /app
COPY --from=build /app ./
USER $APP_UID
ENTRYPOINT ["dotnet", "Greeter.Client.dll"]
