using System.Globalization;
using k8s;
using k8s.Models;
using Reactive.K8sLb.Testing;

namespace Reactive.K8sLb.Tests.Emulator;

public sealed class EmulatorListTests : EmulatorFixture
{
    [Test]
    public async Task List_ServiceWithPods_ReturnsRealEndpointSliceListShape()
    {
        var service = Emulator.AddService("default", "api", Grpc);
        service.AddPod(Ip(1), zone: "zone-a", node: "node-1");
        service.AddPod(Ip(2), ready: false);

        using var response = await Client.DiscoveryV1.ListNamespacedEndpointSliceWithHttpMessagesAsync(
            namespaceParameter: "default", labelSelector: "kubernetes.io/service-name=api");

        var list = response.Body;
        Assert.That(list.ApiVersion, Is.EqualTo("discovery.k8s.io/v1"));
        Assert.That(list.Kind, Is.EqualTo("EndpointSliceList"));
        Assert.That(list.Metadata.ResourceVersion, Is.EqualTo(Emulator.CurrentResourceVersion.ToString(CultureInfo.InvariantCulture)));
        Assert.That(list.Metadata.ContinueProperty, Is.Null);
        var slice = list.Items.Single();
        Assert.That(slice.Metadata.Name, Does.StartWith("api-").And.Length.EqualTo(9));
        Assert.That(slice.Metadata.Labels["kubernetes.io/service-name"], Is.EqualTo("api"));
        Assert.That(slice.Metadata.Labels["endpointslice.kubernetes.io/managed-by"], Is.EqualTo("endpointslice-controller.k8s.io"));
        Assert.That(slice.Metadata.OwnerReferences.Single().Kind, Is.EqualTo("Service"));
        Assert.That(slice.Metadata.OwnerReferences.Single().Uid, Is.EqualTo(service.Uid));
        Assert.That(slice.Metadata.Uid, Is.Not.Empty);
        Assert.That(slice.Metadata.CreationTimestamp, Is.Not.Null);
        Assert.That(slice.AddressType, Is.EqualTo("IPv4"));
        Assert.That(slice.Ports.Single().Port, Is.EqualTo(5000));
        Assert.That(slice.Ports.Single().Protocol, Is.EqualTo("TCP"));
        var ready = slice.Endpoints.Single(e => e.Addresses[0] == Ip(1));
        Assert.That(ready.Conditions.Ready, Is.True);
        Assert.That(ready.Conditions.Serving, Is.True);
        Assert.That(ready.Conditions.Terminating, Is.False);
        Assert.That(ready.Zone, Is.EqualTo("zone-a"));
        Assert.That(ready.NodeName, Is.EqualTo("node-1"));
        Assert.That(ready.TargetRef.Kind, Is.EqualTo("Pod"));
        Assert.That(slice.Endpoints.Single(e => e.Addresses[0] == Ip(2)).Conditions.Ready, Is.False);
    }

    [Test]
    public async Task List_WithLimit_PagesInNameOrderFromOneSnapshot()
    {
        foreach (var name in new[] { "e", "c", "a", "d", "b" })
        {
            Emulator.PutSlice(RawSlice(name));
        }

        var names = new List<string>();
        var resourceVersions = new HashSet<string>();
        string? token = null;
        var pages = 0;
        do
        {
            using var page = await Client.DiscoveryV1.ListNamespacedEndpointSliceWithHttpMessagesAsync(
                namespaceParameter: "default", limit: 2, continueParameter: token);
            names.AddRange(page.Body.Items.Select(s => s.Metadata.Name));
            resourceVersions.Add(page.Body.Metadata.ResourceVersion);
            token = page.Body.Metadata.ContinueProperty;
            pages++;

            // Writes between pages must not leak into later pages of the same list.
            Emulator.PutSlice(RawSlice("b2"));
        }
        while (token is not null);

        Assert.That(names, Is.EqualTo(new[] { "a", "b", "c", "d", "e" }));
        Assert.That(pages, Is.EqualTo(3));
        Assert.That(resourceVersions, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task List_LabelSelector_SupportsEqualityInequalityAndExistence()
    {
        Emulator.AddService("default", "api", Grpc);
        Emulator.AddService("default", "web", Grpc);
        Emulator.PutSlice(RawSlice("unlabelled"));

        async Task<string[]> NamesAsync(string selector)
        {
            using var r = await Client.DiscoveryV1.ListNamespacedEndpointSliceWithHttpMessagesAsync(namespaceParameter: "default", labelSelector: selector);
            return [.. r.Body.Items.Select(s => (s.Metadata.Labels is { } l && l.TryGetValue("kubernetes.io/service-name", out var v) ? v : "-")).Order()];
        }

        Assert.That(await NamesAsync("kubernetes.io/service-name==web"), Is.EqualTo(new[] { "web" }));
        Assert.That(await NamesAsync("kubernetes.io/service-name!=web"), Is.EqualTo(new[] { "-", "api" }));
        Assert.That(await NamesAsync("kubernetes.io/service-name"), Is.EqualTo(new[] { "api", "web" }));
        Assert.That(await NamesAsync("kubernetes.io/service-name,endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io"), Is.EqualTo(new[] { "api", "web" }));
    }

    [Test]
    public async Task List_OtherNamespace_IsNotReturned()
    {
        Emulator.AddService("other", "api", Grpc);

        using var response = await Client.DiscoveryV1.ListNamespacedEndpointSliceWithHttpMessagesAsync(namespaceParameter: "default");

        Assert.That(response.Body.Items, Is.Empty);
    }

    [Test]
    public async Task Discovery_VersionApisAndUnknownPath_ServeRealShapes()
    {
        using var http = new HttpClient { BaseAddress = Emulator.BaseUri };

        var version = await Client.Version.GetCodeAsync();
        var apis = await http.GetStringAsync("/apis");
        using var missing = await http.GetAsync("/api/v1/namespaces/default/pods");

        Assert.That(version.Major, Is.EqualTo("1"));
        Assert.That(apis, Does.Contain("\"discovery.k8s.io/v1\""));
        Assert.That((int)missing.StatusCode, Is.EqualTo(404));
        Assert.That(await missing.Content.ReadAsStringAsync(), Does.Contain("\"kind\":\"Status\"").And.Contain("\"reason\":\"NotFound\""));
    }

    [Test]
    public async Task List_AllNamespacesAndFieldSelector_AreServed()
    {
        Emulator.AddService("default", "api", Grpc);
        Emulator.AddService("other", "api", Grpc);
        Emulator.PutSlice(RawSlice("picked"));

        var all = await Client.DiscoveryV1.ListEndpointSliceForAllNamespacesAsync();
        var byName = await Client.DiscoveryV1.ListNamespacedEndpointSliceAsync("default", fieldSelector: "metadata.name=picked");

        Assert.That(all.Items.Select(s => s.Metadata.NamespaceProperty), Is.EqualTo(new[] { "default", "default", "other" }));
        Assert.That(byName.Items.Single().Metadata.Name, Is.EqualTo("picked"));
    }

    [Test]
    public async Task List_ExactAtCompactedResourceVersion_Is410Expired()
    {
        Emulator.AddService("default", "api", Grpc).AddPod(Ip(1));
        Emulator.ExpireHistory();

        var e = await Assert.ThrowsAsync<k8s.Autorest.HttpOperationException>(() =>
            Client.DiscoveryV1.ListNamespacedEndpointSliceWithHttpMessagesAsync(namespaceParameter: "default", resourceVersion: "1", resourceVersionMatch: "Exact"));

        Assert.That((int)e!.Response.StatusCode, Is.EqualTo(410));
        Assert.That(e.Response.Content, Does.Contain("\"reason\":\"Expired\""));
    }

    internal static V1EndpointSlice RawSlice(string name, string service = "raw") => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = "default",
            Labels = service == "raw" ? null : new Dictionary<string, string> { ["kubernetes.io/service-name"] = service },
        },
        AddressType = "IPv4",
        Endpoints = [new V1Endpoint { Addresses = ["10.9.9.9"], Conditions = new V1EndpointConditions { Ready = true } }],
    };
}
