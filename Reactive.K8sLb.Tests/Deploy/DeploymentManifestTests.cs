using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using YamlDotNet.RepresentationModel;

namespace Reactive.K8sLb.Tests.Deploy;

/// <summary>
/// Static checks of the demo deployment under deploy/: the manifests load as typed Kubernetes objects and agree with
/// each other (names, ports, RBAC, shutdown timings), the shell scripts parse, and the Dockerfiles point at real files.
/// </summary>
public sealed class DeploymentManifestTests
{
    private const string ClusterRbacFile = "rbac-cluster.yaml";

    private const string NodeRbacFile = "rbac-nodes.yaml";

    /// <summary>Every manifest file under deploy/ and the object types it must contain, in order.</summary>
    private static readonly Dictionary<string, Type[]> ExpectedManifestTypes = new(StringComparer.Ordinal)
    {
        ["namespace.yaml"] = [typeof(V1Namespace)],
        ["server-deployment.yaml"] = [typeof(V1Deployment)],
        ["server-service.yaml"] = [typeof(V1Service)],
        ["client-job.yaml"] = [typeof(V1Job)],
        ["rbac.yaml"] = [typeof(V1ServiceAccount), typeof(V1Role), typeof(V1RoleBinding)],
        [ClusterRbacFile] = [typeof(V1ClusterRole), typeof(V1ClusterRoleBinding)],
        [NodeRbacFile] = [typeof(V1ClusterRole), typeof(V1ClusterRoleBinding)],
    };

    private static readonly Lazy<string> LazyRepoRoot = new(FindRepoRoot);

    private static string RepoRoot => LazyRepoRoot.Value;

    private static string DeployDir => Path.Combine(RepoRoot, "deploy");

    private static IEnumerable<TestCaseData> ManifestCases() =>
        ExpectedManifestTypes.Select(pair => new TestCaseData(pair.Key, pair.Value).SetArgDisplayNames(pair.Key));

    private static IEnumerable<TestCaseData> ShellScriptCases() =>
        Directory.EnumerateFiles(DeployDir, "*.sh", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .Select(path => new TestCaseData(Path.GetRelativePath(RepoRoot, path)).SetArgDisplayNames(Path.GetFileName(path)));

    // ---- manifests load as typed objects ---------------------------------------------------------------------

    [Test]
    public void DeployDirectory_EveryYamlFile_HasAnExpectation()
    {
        var files = Directory.EnumerateFiles(DeployDir, "*.yaml").Select(Path.GetFileName).ToList();

        Assert.That(files, Is.EquivalentTo(ExpectedManifestTypes.Keys.Append("kustomization.yaml")));
    }

    [TestCaseSource(nameof(ManifestCases))]
    public void Manifest_LoadedStrictly_ContainsExpectedTypedObjects(string file, Type[] expectedTypes)
    {
        var objects = LoadManifest(file);

        Assert.That(objects.Select(o => o.GetType()), Is.EqualTo(expectedTypes));
    }

    [TestCaseSource(nameof(ManifestCases))]
    public void Manifest_NamespacedObjects_LiveInGreeterDemo(string file, Type[] expectedTypes)
    {
        _ = expectedTypes;
        var namespaced = LoadManifest(file)
            .OfType<IKubernetesObject<V1ObjectMeta>>()
            .Where(o => o is not (V1Namespace or V1ClusterRole or V1ClusterRoleBinding))
            .ToList();

        Assert.That(namespaced.Select(o => o.Metadata.NamespaceProperty), Is.All.EqualTo(Namespace().Metadata.Name));
    }

    [Test]
    public void Kustomization_ListsEveryManifestExceptTheOptInRbac()
    {
        Assert.That(KustomizationResources(), Is.EquivalentTo(ExpectedManifestTypes.Keys.Where(k => k is not (ClusterRbacFile or NodeRbacFile))));
    }

    [Test]
    public void Kustomization_DoesNotIncludeTheOptInNodeRbac()
    {
        Assert.That(KustomizationResources(), Does.Not.Contain(NodeRbacFile));
    }

    // ---- RBAC --------------------------------------------------------------------------------------------------

    [Test]
    public void Role_GrantsListAndWatchOnEndpointSlices()
    {
        var role = Single<V1Role>("rbac.yaml");

        Assert.That(role.Rules, Has.Some.Matches<V1PolicyRule>(GrantsEndpointSliceListAndWatch));
    }

    [Test]
    public void ClusterRole_GrantsListAndWatchOnEndpointSlices()
    {
        var role = Single<V1ClusterRole>(ClusterRbacFile);

        Assert.That(role.Rules, Has.Some.Matches<V1PolicyRule>(GrantsEndpointSliceListAndWatch));
    }

    [Test]
    public void RoleBinding_BindsClientServiceAccountToRole()
    {
        var account = Single<V1ServiceAccount>("rbac.yaml");
        var role = Single<V1Role>("rbac.yaml");
        var binding = Single<V1RoleBinding>("rbac.yaml");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(binding.RoleRef.Kind, Is.EqualTo("Role"));
            Assert.That(binding.RoleRef.Name, Is.EqualTo(role.Metadata.Name));
            Assert.That(binding.Subjects, Has.Some.Matches<Rbacv1Subject>(s => BindsAccount(s, account)));
        }
    }

    [Test]
    public void ClusterRoleBinding_BindsClientServiceAccountToClusterRole()
    {
        var account = Single<V1ServiceAccount>("rbac.yaml");
        var role = Single<V1ClusterRole>(ClusterRbacFile);
        var binding = Single<V1ClusterRoleBinding>(ClusterRbacFile);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(binding.RoleRef.Kind, Is.EqualTo("ClusterRole"));
            Assert.That(binding.RoleRef.Name, Is.EqualTo(role.Metadata.Name));
            Assert.That(binding.Subjects, Has.Some.Matches<Rbacv1Subject>(s => BindsAccount(s, account)));
        }
    }

    [Test]
    public void NodeClusterRole_GrantsOnlyGetOnNodes()
    {
        var rule = Single<V1ClusterRole>(NodeRbacFile).Rules.Single();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(rule.ApiGroups, Is.EqualTo(new[] { string.Empty }));
            Assert.That(rule.Resources, Is.EqualTo(new[] { "nodes" }));
            Assert.That(rule.Verbs, Is.EqualTo(new[] { "get" }));
            Assert.That(rule.ResourceNames, Is.Null.Or.Empty);
            Assert.That(rule.NonResourceURLs, Is.Null.Or.Empty);
        }
    }

    [Test]
    public void NodeClusterRoleBinding_BindsOnlyTheClientServiceAccountToTheNodeReader()
    {
        var account = Single<V1ServiceAccount>("rbac.yaml");
        var role = Single<V1ClusterRole>(NodeRbacFile);
        var binding = Single<V1ClusterRoleBinding>(NodeRbacFile);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(binding.RoleRef.Kind, Is.EqualTo("ClusterRole"));
            Assert.That(binding.RoleRef.Name, Is.EqualTo(role.Metadata.Name));
            Assert.That(binding.Subjects, Has.Count.EqualTo(1));
            Assert.That(binding.Subjects, Has.All.Matches<Rbacv1Subject>(s => BindsAccount(s, account)));
        }
    }

    [Test]
    public void Job_RunsAsTheBoundServiceAccount()
    {
        var account = Single<V1ServiceAccount>("rbac.yaml");
        var job = Single<V1Job>("client-job.yaml");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(job.Spec.Template.Spec.ServiceAccountName, Is.EqualTo(account.Metadata.Name));
            Assert.That(job.Metadata.NamespaceProperty, Is.EqualTo(account.Metadata.NamespaceProperty));
        }
    }

    // ---- client Job <-> Service ------------------------------------------------------------------------------

    [Test]
    public void Job_ServiceName_EqualsTheServiceName()
    {
        var service = Single<V1Service>("server-service.yaml");

        Assert.That(JobEnv("SERVICE_NAME").Value, Is.EqualTo(service.Metadata.Name));
    }

    [Test]
    public void Job_ServiceNamespace_ComesFromDownwardApiOrIsTheServiceNamespace()
    {
        var service = Single<V1Service>("server-service.yaml");
        var variable = JobEnv("SERVICE_NAMESPACE");

        Assert.That(
            variable.ValueFrom?.FieldRef?.FieldPath == "metadata.namespace" || variable.Value == service.Metadata.NamespaceProperty,
            Is.True,
            "SERVICE_NAMESPACE must be metadata.namespace from the downward API or the Service's namespace");
    }

    [Test]
    public void Job_GrpcPort_MatchesAServicePortNameOrNumber()
    {
        var service = Single<V1Service>("server-service.yaml");
        var grpcPort = JobEnv("GRPC_PORT").Value;

        Assert.That(
            service.Spec.Ports,
            Has.Some.Matches<V1ServicePort>(p => p!.Name == grpcPort || p.Port.ToString(CultureInfo.InvariantCulture) == grpcPort));
    }

    [TestCase("K8SLB_ZONE", "metadata.labels['topology.kubernetes.io/zone']")]
    [TestCase("K8SLB_NODE_NAME", "spec.nodeName")]
    public void Job_Location_ComesFromDownwardApi(string name, string fieldPath)
    {
        var variable = JobEnv(name);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(variable.ValueFrom?.FieldRef?.FieldPath, Is.EqualTo(fieldPath));
            Assert.That(variable.Value, Is.Null);
        }
    }

    [Test]
    public void Service_TrafficDistribution_IsPreferSameZone()
    {
        Assert.That(Single<V1Service>("server-service.yaml").Spec.TrafficDistribution, Is.EqualTo("PreferSameZone"));
    }

    [TestCase("REQUEST_COUNT")]
    [TestCase("REQUEST_INTERVAL_MS")]
    public void Job_NumericSetting_IsAPositiveInteger(string name)
    {
        Assert.That(int.Parse(JobEnv(name).Value, CultureInfo.InvariantCulture), Is.Positive);
    }

    // ---- server Deployment <-> Service -----------------------------------------------------------------------

    [Test]
    public void Service_Selector_MatchesDeploymentPodLabels()
    {
        var service = Single<V1Service>("server-service.yaml");
        var deployment = Single<V1Deployment>("server-deployment.yaml");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(service.Spec.Selector, Is.SubsetOf(deployment.Spec.Template.Metadata.Labels));
            Assert.That(deployment.Spec.Selector.MatchLabels, Is.SubsetOf(deployment.Spec.Template.Metadata.Labels));
        }
    }

    [Test]
    public void Deployment_ContainerPortName_MatchesServiceTargetPort()
    {
        var targetPort = Single<V1Service>("server-service.yaml").Spec.Ports.Single().TargetPort;

        Assert.That(ServerContainer().Ports, Has.Some.Matches<V1ContainerPort>(p => p!.Name == targetPort.Value));
    }

    [Test]
    public void Deployment_ReadinessProbe_IsGrpcProbeOnTheServedPort()
    {
        var container = ServerContainer();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(container.ReadinessProbe?.Grpc, Is.Not.Null);
            Assert.That(container.ReadinessProbe?.Grpc?.Port, Is.EqualTo(ServedContainerPort().ContainerPort));
        }
    }

    [Test]
    public void Deployment_LivenessProbe_IsGrpcProbeOnTheServedPort()
    {
        Assert.That(ServerContainer().LivenessProbe?.Grpc?.Port, Is.EqualTo(ServedContainerPort().ContainerPort));
    }

    [Test]
    public void Deployment_ServerListensOnTheServedPort()
    {
        var port = int.Parse(ServerEnv("GRPC_PORT").Value, CultureInfo.InvariantCulture);

        Assert.That(port, Is.EqualTo(ServedContainerPort().ContainerPort));
    }

    [Test]
    public void Deployment_TerminationGracePeriod_ExceedsPreStopDelayPlusDrainTimeout()
    {
        var deployment = Single<V1Deployment>("server-deployment.yaml");
        var drainSeconds = long.Parse(ServerEnv("SHUTDOWN_TIMEOUT_SECONDS").Value, CultureInfo.InvariantCulture);

        Assert.That(
            deployment.Spec.Template.Spec.TerminationGracePeriodSeconds,
            Is.GreaterThan(PreStopDelaySeconds(ServerContainer()) + drainSeconds));
    }

    [Test]
    public void Deployment_PreStop_DelaysTermination()
    {
        Assert.That(PreStopDelaySeconds(ServerContainer()), Is.Positive);
    }

    [Test]
    public void Deployment_RollingUpdate_NeverDropsBelowDesiredReplicas()
    {
        var spec = Single<V1Deployment>("server-deployment.yaml").Spec;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(spec.Replicas, Is.EqualTo(3));
            Assert.That(spec.Strategy.Type, Is.EqualTo("RollingUpdate"));
            Assert.That(spec.Strategy.RollingUpdate.MaxUnavailable.Value, Is.EqualTo("0"));
            Assert.That(spec.Strategy.RollingUpdate.MaxSurge.Value, Is.EqualTo("1"));
        }
    }

    [Test]
    public void Deployment_PodName_ComesFromDownwardApi()
    {
        Assert.That(ServerEnv("POD_NAME").ValueFrom?.FieldRef?.FieldPath, Is.EqualTo("metadata.name"));
    }

    [TestCase("server-deployment.yaml")]
    [TestCase("client-job.yaml")]
    public void Workload_RunsAsNonRootWithReadOnlyRootFilesystem(string file)
    {
        var pod = LoadManifest(file).Single() switch
        {
            V1Deployment deployment => deployment.Spec.Template.Spec,
            V1Job job => job.Spec.Template.Spec,
            var other => throw new AssertionException($"unexpected {other.GetType().Name}"),
        };

        using (Assert.EnterMultipleScope())
        {
            Assert.That(pod.SecurityContext?.RunAsNonRoot, Is.True);
            Assert.That(pod.Containers.Select(c => c.SecurityContext?.ReadOnlyRootFilesystem), Is.All.True);
            Assert.That(pod.Containers.Select(c => c.SecurityContext?.AllowPrivilegeEscalation), Is.All.False);
            Assert.That(pod.Containers.Select(c => c.Resources?.Requests), Is.All.Not.Null);
        }
    }

    // ---- scripts ------------------------------------------------------------------------------------------------

    [TestCaseSource(nameof(ShellScriptCases))]
    public async Task ShellScript_PassesBashSyntaxCheck(string relativePath)
    {
        var startInfo = new ProcessStartInfo("/bin/bash")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add("-n");
        startInfo.ArgumentList.Add(Path.Combine(RepoRoot, relativePath));
        using var bash = Process.Start(startInfo) ?? throw new InvalidOperationException("could not start /bin/bash");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var stderr = await bash.StandardError.ReadToEndAsync(timeout.Token);
        await bash.WaitForExitAsync(timeout.Token);

        Assert.That(bash.ExitCode, Is.Zero, stderr);
    }

    [Test]
    public void ShellScripts_AreThereAtAll()
    {
        Assert.That(ShellScriptCases().Select(c => c.Arguments[0]), Is.SupersetOf(new[] { "deploy/deploy.sh", "deploy/kind.sh" }));
    }

    // ---- Dockerfiles ------------------------------------------------------------------------------------------

    [TestCase("server.Dockerfile")]
    [TestCase("server.chiseled.Dockerfile")]
    [TestCase("client.Dockerfile")]
    [TestCase("client.chiseled.Dockerfile")]
    public void Dockerfile_CopiesAndPublishesOnlyExistingPaths(string dockerfile)
    {
        var instructions = DockerInstructions(dockerfile);
        var copySources = instructions
            .Where(i => i.Keyword == "COPY" && !i.Arguments.Contains("--from=", StringComparison.Ordinal))
            .SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).SkipLast(1))
            .ToList();
        var projects = ProjectPaths(dockerfile);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(copySources, Is.Not.Empty);
            Assert.That(copySources, Is.All.Matches<string>(PathExists), "COPY sources must exist (relative to the repository root)");
            Assert.That(projects, Is.Not.Empty);
            Assert.That(projects, Is.All.Matches<string>(PathExists), "*.csproj paths must exist");
        }
    }

    [TestCase("server.Dockerfile")]
    [TestCase("server.chiseled.Dockerfile")]
    [TestCase("client.Dockerfile")]
    [TestCase("client.chiseled.Dockerfile")]
    public void Dockerfile_Entrypoint_RunsThePublishedProjectAssembly(string dockerfile)
    {
        var publish = DockerInstructions(dockerfile).Single(i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet publish", StringComparison.Ordinal));
        var project = ProjectPaths(publish.Arguments).Single();
        var entrypoint = JsonSerializer.Deserialize<string[]>(DockerInstructions(dockerfile).Single(i => i.Keyword == "ENTRYPOINT").Arguments);

        Assert.That(entrypoint, Is.EqualTo(new[] { "dotnet", Path.GetFileNameWithoutExtension(project) + ".dll" }));
    }

    [TestCase("client.Dockerfile")]
    [TestCase("client.chiseled.Dockerfile")]
    public void ClientDockerfile_CopiesTheLibraryProject(string dockerfile)
    {
        const string library = "Reactive.K8sLb/Reactive.K8sLb.csproj";

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ProjectPaths(dockerfile), Does.Contain(library));
            Assert.That(PathExists(library), Is.True);
        }
    }

    [TestCase("server.Dockerfile", "mcr.microsoft.com/dotnet/sdk:10.0-alpine", "mcr.microsoft.com/dotnet/aspnet:10.0-alpine", "linux-musl-x64")]
    [TestCase("client.Dockerfile", "mcr.microsoft.com/dotnet/sdk:10.0-alpine", "mcr.microsoft.com/dotnet/runtime:10.0-alpine", "linux-musl-x64")]
    [TestCase("server.chiseled.Dockerfile", "mcr.microsoft.com/dotnet/sdk:10.0-noble", "mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled", "linux-x64")]
    [TestCase("client.chiseled.Dockerfile", "mcr.microsoft.com/dotnet/sdk:10.0-noble", "mcr.microsoft.com/dotnet/runtime:10.0-noble-chiseled", "linux-x64")]
    public void Dockerfile_BuildsFrameworkDependentForTheRuntimeImage(string dockerfile, string sdkImage, string runtimeImage, string rid)
    {
        var instructions = DockerInstructions(dockerfile);
        var images = instructions.Where(i => i.Keyword == "FROM").Select(i => i.Arguments.Split(' ')[0]).ToList();
        var publish = instructions.Single(i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet publish", StringComparison.Ordinal)).Arguments;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(images, Is.EqualTo(new[] { sdkImage, runtimeImage }));
            Assert.That(publish, Does.Contain($"-r {rid}"));
            Assert.That(publish, Does.Contain("--self-contained false"));
        }
    }

    [TestCase("server.Dockerfile")]
    [TestCase("client.Dockerfile")]
    [TestCase("server.chiseled.Dockerfile")]
    [TestCase("client.chiseled.Dockerfile")]
    public void Dockerfile_CopiesBuildPropsAndRunsAsNonRoot(string dockerfile)
    {
        var instructions = DockerInstructions(dockerfile);
        var copied = instructions.Where(i => i.Keyword == "COPY").SelectMany(i => i.Arguments.Split(' ')).ToList();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(copied, Is.SupersetOf(new[] { "global.json", "Directory.Build.props", "Directory.Packages.props" }));
            Assert.That(instructions.Last(i => i.Keyword == "USER").Arguments, Is.EqualTo("$APP_UID"));
        }
    }

    [TestCase("server.Dockerfile")]
    [TestCase("server.chiseled.Dockerfile")]
    public void ServerDockerfile_ExposesTheContainerPort(string dockerfile)
    {
        var exposed = DockerInstructions(dockerfile).Single(i => i.Keyword == "EXPOSE").Arguments;

        Assert.That(exposed, Is.EqualTo(ServedContainerPort().ContainerPort.ToString(CultureInfo.InvariantCulture)));
    }

    [Test]
    public void DockerIgnore_ExcludesBuildOutputsAndGit()
    {
        var lines = File.ReadAllLines(Path.Combine(RepoRoot, ".dockerignore")).Select(l => l.Trim()).ToList();

        Assert.That(lines, Is.SupersetOf(new[] { "**/bin/", "**/obj/", "artifacts/", ".git" }));
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ReactiveK8sLb.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"ReactiveK8sLb.sln not found above {TestContext.CurrentContext.TestDirectory}");
    }

    private static List<object> LoadManifest(string file) =>
        KubernetesYaml.LoadAllFromString(File.ReadAllText(Path.Combine(DeployDir, file)), typeMap: null, strict: true);

    private static T Single<T>(string file) => LoadManifest(file).OfType<T>().Single();

    private static V1Namespace Namespace() => Single<V1Namespace>("namespace.yaml");

    private static YamlNode LoadYaml(string path)
    {
        var stream = new YamlStream();
        using var reader = new StringReader(File.ReadAllText(path));
        stream.Load(reader);
        return stream.Documents.Single().RootNode;
    }

    private static List<string?> KustomizationResources()
    {
        var root = (YamlMappingNode)LoadYaml(Path.Combine(DeployDir, "kustomization.yaml"));
        return ((YamlSequenceNode)root.Children[new YamlScalarNode("resources")])
            .Children.Select(node => ((YamlScalarNode)node).Value)
            .ToList();
    }

    private static bool GrantsEndpointSliceListAndWatch(V1PolicyRule? rule) =>
        rule is not null
        && rule.ApiGroups.Contains("discovery.k8s.io")
        && rule.Resources.Contains("endpointslices")
        && rule.Verbs.Contains("list")
        && rule.Verbs.Contains("watch");

    private static bool BindsAccount(Rbacv1Subject? subject, V1ServiceAccount account) =>
        subject is not null
        && subject.Kind == "ServiceAccount"
        && subject.Name == account.Metadata.Name
        && subject.NamespaceProperty == account.Metadata.NamespaceProperty;

    private static V1EnvVar JobEnv(string name) =>
        Single<V1Job>("client-job.yaml").Spec.Template.Spec.Containers.Single().Env.Single(e => e.Name == name);

    private static V1Container ServerContainer() =>
        Single<V1Deployment>("server-deployment.yaml").Spec.Template.Spec.Containers.Single();

    private static V1EnvVar ServerEnv(string name) => ServerContainer().Env.Single(e => e.Name == name);

    /// <summary>The container port the Service's targetPort points at (by name or number).</summary>
    private static V1ContainerPort ServedContainerPort()
    {
        var targetPort = Single<V1Service>("server-service.yaml").Spec.Ports.Single().TargetPort.Value;
        return ServerContainer().Ports.Single(
            p => p.Name == targetPort || p.ContainerPort.ToString(CultureInfo.InvariantCulture) == targetPort);
    }

    /// <summary>Seconds the preStop hook delays SIGTERM: the native sleep action or an exec "sleep N".</summary>
    private static long PreStopDelaySeconds(V1Container container)
    {
        var preStop = container.Lifecycle?.PreStop;
        if (preStop?.Sleep is { } sleep)
        {
            return sleep.Seconds;
        }

        var command = preStop?.Exec?.Command ?? [];
        var sleepIndex = command.ToList().FindIndex(part => part is "sleep" or "/bin/sleep");
        return sleepIndex >= 0 && sleepIndex + 1 < command.Count
            ? long.Parse(command[sleepIndex + 1], CultureInfo.InvariantCulture)
            : 0;
    }

    private sealed record DockerInstruction(string Keyword, string Arguments);

    /// <summary>Instructions of a Dockerfile under deploy/docker, with line continuations joined and comments dropped.</summary>
    private static List<DockerInstruction> DockerInstructions(string dockerfile)
    {
        var text = File.ReadAllText(Path.Combine(DeployDir, "docker", dockerfile));
        var lines = text.Split('\n')
            .Where(line => !line.TrimStart().StartsWith('#'))
            .Select(line => line.TrimEnd());
        var joined = string.Join('\n', lines).Replace("\\\n", " ", StringComparison.Ordinal);

        return joined.Split('\n')
            .Select(line => Regex.Replace(line.Trim(), @"\s+", " "))
            .Where(line => line.Length > 0)
            .Select(line =>
            {
                var space = line.IndexOf(' ', StringComparison.Ordinal);
                return space < 0
                    ? new DockerInstruction(line.ToUpperInvariant(), string.Empty)
                    : new DockerInstruction(line[..space].ToUpperInvariant(), line[(space + 1)..]);
            })
            .ToList();
    }

    private static List<string> ProjectPaths(string dockerfileOrText)
    {
        var text = dockerfileOrText.EndsWith("Dockerfile", StringComparison.Ordinal)
            ? string.Join('\n', DockerInstructions(dockerfileOrText).Select(i => i.Arguments))
            : dockerfileOrText;
        return Regex.Matches(text, @"[A-Za-z0-9_./-]+\.csproj").Select(m => m.Value).Distinct().ToList();
    }

    private static bool PathExists(string? relativePath)
    {
        if (relativePath is null)
        {
            return false;
        }

        var path = Path.Combine(RepoRoot, relativePath.TrimEnd('/'));
        return File.Exists(path) || Directory.Exists(path);
    }
}
