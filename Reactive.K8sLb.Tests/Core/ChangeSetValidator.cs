using System.Net;

namespace Reactive.K8sLb.Tests.Core;

/// <summary>
/// Replays changes onto a set and fails on a protocol error: an Insert of an item already present or a Remove of an
/// item absent (the idea of DynamicData's ValidateChangeSets).
/// </summary>
internal sealed class ChangeSetValidator<T>(IEqualityComparer<T>? comparer = null)
    where T : notnull
{
    private readonly HashSet<T> _items = new(comparer);

    public IReadOnlySet<T> Items => _items;

    public void Apply(Change<T> change)
    {
        if (change.Kind == ChangeKind.Insert && !_items.Add(change.Item))
            throw new InvalidOperationException($"Protocol error: Insert of {change.Item}, which is already present.");
        if (change.Kind == ChangeKind.Remove && !_items.Remove(change.Item))
            throw new InvalidOperationException($"Protocol error: Remove of {change.Item}, which is absent.");
    }

    public void Apply(IEnumerable<Change<T>> changes)
    {
        foreach (var change in changes) Apply(change);
    }

    /// <summary>The items as sorted strings, for readable set comparisons.</summary>
    public string[] Sorted() => _items.Select(i => i.ToString()!).Order(StringComparer.Ordinal).ToArray();
}

/// <summary>An observer of discovery updates that validates every change and keeps the reproduced set.</summary>
internal sealed class ValidatingUpdateObserver : IObserver<DiscoveryUpdate>
{
    public ChangeSetValidator<EndPoint> Set { get; } = new();

    public List<DiscoveryUpdate> Updates { get; } = [];

    public Exception? Error { get; private set; }

    public bool Completed { get; private set; }

    public void OnNext(DiscoveryUpdate value)
    {
        Updates.Add(value);
        Set.Apply(value.Changes);
    }

    public void OnError(Exception error) => Error = error;

    public void OnCompleted() => Completed = true;
}

internal static class EndPoints
{
    public static EndPoint Ip(string address, int port = 8080) => new IPEndPoint(IPAddress.Parse(address), port);

    public static EndPoint Dns(string host, int port = 8080) => new DnsEndPoint(host, port);

    public static Change<EndPoint> Insert(string address, int port = 8080) => Change.Insert(Ip(address, port));

    public static Change<EndPoint> Remove(string address, int port = 8080) => Change.Remove(Ip(address, port));
}
