namespace Reactive.K8sLb.Testing.Internal;

/// <summary>The static discovery documents, shaped like a v1.33 API server's (trimmed to what the emulator serves).</summary>
internal static class DiscoveryDocuments
{
    public const string Version =
        """{"major":"1","minor":"33","gitVersion":"v1.33.0-emulator","gitCommit":"0000000000000000000000000000000000000000","gitTreeState":"clean","buildDate":"2025-04-23T00:00:00Z","goVersion":"go1.24.2","compiler":"gc","platform":"linux/amd64"}""";

    public const string Api =
        """{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"127.0.0.1:6443"}]}""";

    public const string DiscoveryGroup =
        """{"kind":"APIGroup","apiVersion":"v1","name":"discovery.k8s.io","versions":[{"groupVersion":"discovery.k8s.io/v1","version":"v1"}],"preferredVersion":{"groupVersion":"discovery.k8s.io/v1","version":"v1"}}""";

    public const string Apis =
        """{"kind":"APIGroupList","apiVersion":"v1","groups":[{"name":"discovery.k8s.io","versions":[{"groupVersion":"discovery.k8s.io/v1","version":"v1"}],"preferredVersion":{"groupVersion":"discovery.k8s.io/v1","version":"v1"}}]}""";

    public const string DiscoveryV1Resources =
        """{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"discovery.k8s.io/v1","resources":[{"name":"endpointslices","singularName":"endpointslice","namespaced":true,"kind":"EndpointSlice","verbs":["create","delete","deletecollection","get","list","patch","update","watch"]}]}""";
}
