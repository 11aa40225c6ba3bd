using System.Globalization;
using System.Reactive.Concurrency;
using System.Text.RegularExpressions;
using k8s;
using Microsoft.Extensions.Logging;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Discovery;

/// <summary>
/// The watcher under faults, with the real KubernetesClient against a <see cref="ScriptedApiServer"/>: how long it
/// waits before retrying, what it logs, and whether the status tells the truth.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Children)]
public sealed partial class WatchFaultTests
{
    private const string Forbidden = "endpointslices.discovery.k8s.io is forbidden: User cannot list resource";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private static DiscoveryConfig Config(
        ScriptedApiServer server,
        ILoggerFactory? logs = null,
        BackoffOptions? backoff = null,
        TimeSpan? idle = null,
        TimeSpan? clientTimeout = null,
        IScheduler? scheduler = null)
    {
        var client = server.ClientConfiguration;
        if (clientTimeout is { } limit) client.HttpClientTimeout = limit;
        return new DiscoveryConfig("greeter", 8080)
        {
            Namespace = "demo",
            ClientConfiguration = client,
            Debounce = TimeSpan.Zero,
            IdleTimeout = idle ?? TimeSpan.FromSeconds(30),
            Backoff = backoff ?? new BackoffOptions(initial: TimeSpan.FromMilliseconds(20), maximum: TimeSpan.FromSeconds(1)),
            LoggerFactory = logs,
            Scheduler = scheduler,
            StreamingLists = false, // these scripted servers speak the classic LIST + WATCH protocol
        };
    }

    private static EndpointSetRecorder Record(DiscoveryConfig config) => new(KubernetesDiscovery.Observe(config));

    /// <summary>The retries logged so far: event id (206 transient, 207 refused, 209 refused again), attempt, delay.</summary>
    private static List<(int EventId, int Attempt, TimeSpan Delay)> Retries(CapturingLoggerFactory logs) =>
        [.. logs.Entries
            .Where(entry => entry.EventId.Id is 206 or 207 or 209)
            .Select(entry => (entry.EventId.Id, Match: RetryText().Match(entry.Message)))
            .Select(retry => (
                retry.Id,
                int.Parse(retry.Match.Groups["attempt"].Value, CultureInfo.InvariantCulture),
                TimeSpan.Parse(retry.Match.Groups["delay"].Value, CultureInfo.InvariantCulture)))];

    [GeneratedRegex(@"retry (?<attempt>\d+) in (?<delay>[0-9.:]+)\)")]
    private static partial Regex RetryText();

    // ---- A. Refusals (401/403/404) ------------------------------------------------------------------

    [Test]
    public async Task Forbidden_FirstRetryWaitsAboutOneSecondNotTheMaximum()
    {
        await using var server = ScriptedApiServer.Scripted(_ => ScriptedApiServer.StatusReply(403, Forbidden));
        var logs = new CapturingLoggerFactory();

        using var recorder = Record(Config(server, logs, new BackoffOptions(initial: TimeSpan.FromMilliseconds(20), maximum: TimeSpan.FromSeconds(5))));

        await Eventually.That(() => Retries(logs).Count > 0, "a logged retry");
        var first = Retries(logs)[0];
        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.EventId, Is.EqualTo(207));
            Assert.That(first.Delay, Is.InRange(TimeSpan.FromMilliseconds(800), TimeSpan.FromMilliseconds(1200)));
            Assert.That(logs.Entries.Single(e => e.EventId.Id == 207).Level, Is.EqualTo(LogLevel.Error));
            Assert.That(logs.Entries.Single(e => e.EventId.Id == 207).Message, Does.Contain("grant the pod's ServiceAccount"));
        }
    }

    [Test]
    public async Task RefusedRepeatedly_LogsTheErrorOncePerStreak_AHealthyWatchEndsTheStreak()
    {
        // Watches: refused, refused, healthy (a bookmark) then dropped, refused, then a healthy one that stays open.
        await using var server = ScriptedApiServer.Scripted(request => (request.Watch, request.Number) switch
        {
            (false, _) => ScriptedApiServer.ListReply(),
            (true, 1 or 2 or 4) => ScriptedApiServer.StatusReply(403, Forbidden),
            (true, 3) => ScriptedApiServer.WatchReply(keepOpen: false, ScriptedApiServer.Bookmark("8")),
            _ => ScriptedApiServer.WatchReply(keepOpen: true, ScriptedApiServer.Bookmark("9")),
        });
        var logs = new CapturingLoggerFactory();

        using var recorder = Record(Config(server, logs, new BackoffOptions(initial: TimeSpan.FromMilliseconds(20), maximum: TimeSpan.FromMilliseconds(100))));

        await Eventually.That(() => server.Watches >= 5 && Retries(logs).Count >= 4, "five watches");
        Assert.That(Retries(logs).Select(r => r.EventId), Is.EqualTo(new[] { 207, 209, 206, 207 }));
        Assert.That(logs.Entries.Where(e => e.EventId.Id == 209).Select(e => e.Level), Has.All.EqualTo(LogLevel.Debug));
    }

    // ---- B. A watch that delivered starts the backoff over --------------------------------------------

    [Test]
    public async Task WatchesDroppedAfterDeliveringABookmark_EveryRetryIsTheFirstOfItsStreak()
    {
        await using var server = ScriptedApiServer.Scripted(request => request.Watch
            ? ScriptedApiServer.WatchReply(keepOpen: false, ScriptedApiServer.Bookmark("8"))
            : ScriptedApiServer.ListReply());
        var logs = new CapturingLoggerFactory();

        using var recorder = Record(Config(server, logs));

        await Eventually.That(() => Retries(logs).Count >= 4, "four dropped watches");
        Assert.That(Retries(logs).Take(4).Select(r => (r.EventId, r.Attempt)), Is.EqualTo(Enumerable.Repeat((206, 1), 4)));
        Assert.That(server.Lists, Is.EqualTo(1));
    }

    // ---- C. Retry-After -------------------------------------------------------------------------------

    [Test]
    public async Task TooManyRequestsWithRetryAfter_NextRequestWaitsThatLong()
    {
        await using var server = ScriptedApiServer.Scripted(request => (request.Watch, request.Number) switch
        {
            (false, 1) => ScriptedApiServer.StatusReply(429, "too many requests, please try again later", ("Retry-After", "1")),
            (false, _) => ScriptedApiServer.ListReply(),
            _ => ScriptedApiServer.WatchReply(keepOpen: true),
        });
        var timers = new VirtualTimers();
        using var recorder = Record(Config(server, backoff: new BackoffOptions(initial: TimeSpan.FromMilliseconds(20), maximum: TimeSpan.FromSeconds(5)), scheduler: timers));
        await Eventually.That(() => timers.DueTimes.Contains(TimeSpan.FromSeconds(1)), "a retry timer of 1 s");

        timers.AdvanceBy(TimeSpan.FromSeconds(1) - TimeSpan.FromTicks(1));
        var listsBeforeRetryAfter = server.Lists;
        timers.AdvanceBy(TimeSpan.FromTicks(1));

        await recorder.WaitForStatusAsync(s => s.IsSynchronized, Timeout, "synchronisation after the retry");
        Assert.That(listsBeforeRetryAfter, Is.EqualTo(1));
        Assert.That(server.Lists, Is.EqualTo(2));
    }

    [Test]
    public async Task ServiceUnavailableWithLongRetryAfter_WaitsNoLongerThanTheMaximum()
    {
        await using var server = ScriptedApiServer.Scripted(_ => ScriptedApiServer.StatusReply(503, "apiserver is shutting down", ("Retry-After", "3600")));
        var logs = new CapturingLoggerFactory();

        using var recorder = Record(Config(server, logs, new BackoffOptions(initial: TimeSpan.FromMilliseconds(20), maximum: TimeSpan.FromSeconds(2))));

        await Eventually.That(() => Retries(logs).Count > 0, "a logged retry");
        Assert.That(Retries(logs)[0].Delay, Is.EqualTo(TimeSpan.FromSeconds(2)));
    }

    // ---- D. The status tells the truth ---------------------------------------------------------------

    [Test]
    public async Task StalledWatch_ReportsFailingWithTheReason_UntilTheNextWatchAnswers()
    {
        // Every watch delivers one bookmark, then falls silent with the connection open.
        await using var server = ScriptedApiServer.Scripted(request => request.Watch
            ? ScriptedApiServer.WatchReply(keepOpen: true, ScriptedApiServer.Bookmark("8"))
            : ScriptedApiServer.ListReply());

        using var recorder = Record(Config(server, idle: TimeSpan.FromMilliseconds(300)));

        await recorder.WaitForStatusAsync(s => s.Health == DiscoveryHealth.Failing, Timeout, "a failing status for the stalled watch");
        // The first failing status, not the latest: the next watch may already have answered (healthy again).
        var stalled = recorder.Statuses.First(s => s.Health == DiscoveryHealth.Failing);
        Assert.That(stalled.Message, Does.Contain("demo/greeter").And.Contain("not even a bookmark").And.Contain("00:00:00.3"));
        Assert.That(stalled.IsSynchronized, Is.True);

        // The next watch stalls too after a while: look for Healthy anywhere after the first Failing.
        await recorder.WaitForAsync(
            () => recorder.Statuses.SkipWhile(s => s.Health != DiscoveryHealth.Failing).Any(s => s.Health == DiscoveryHealth.Healthy),
            Timeout,
            () => "healthy again once the next watch answers: " + string.Join(" | ", recorder.Statuses));
    }

    [Test]
    public async Task WatchResumedAfterAFailure_HealthyAsSoonAsItsHeadersArrive()
    {
        // The second watch answers 200 and then sends nothing: no event, no bookmark.
        await using var server = ScriptedApiServer.Scripted(request => (request.Watch, request.Number) switch
        {
            (false, _) => ScriptedApiServer.ListReply(),
            (true, 1) => ScriptedApiServer.StatusReply(503, "apiserver is shutting down"),
            _ => ScriptedApiServer.WatchReply(keepOpen: true),
        });

        using var recorder = Record(Config(server));
        await recorder.WaitForAsync(() => recorder.Statuses.Any(s => s.Health == DiscoveryHealth.Failing), Timeout, () => "the 503");

        await recorder.WaitForStatusAsync(s => s.Health == DiscoveryHealth.Healthy, Timeout, "healthy on the second watch's headers");
        Assert.That(server.Watches, Is.EqualTo(2));
    }

    // ---- E. Smaller defects --------------------------------------------------------------------------

    [Test]
    public async Task RetryDueAsTheSubscriptionIsDisposed_LogsNoWarning()
    {
        await using var server = ScriptedApiServer.Scripted(_ => ScriptedApiServer.StatusReply(503, "apiserver is shutting down"));
        var logs = new CapturingLoggerFactory();
        var timers = new VirtualTimers(cancellable: false);
        var backoff = new BackoffOptions(initial: TimeSpan.FromHours(1), maximum: TimeSpan.FromHours(2), jitter: 0);
        var recorder = Record(Config(server, logs, backoff, idle: TimeSpan.FromMinutes(10), scheduler: timers));
        await Eventually.That(() => timers.DueTimes.Contains(TimeSpan.FromHours(1)), "the retry timer");
        var entriesBefore = logs.Entries.Count;

        recorder.Dispose();
        timers.AdvanceBy(TimeSpan.FromHours(1));

        Assert.That(logs.Entries.Skip(entriesBefore).Where(e => e.Level >= LogLevel.Warning), Is.Empty);
    }

    [Test]
    public async Task ListNeverAnswered_ClientTimeoutFiresFirst_MessageNamesTheClientTimeout()
    {
        await using var server = ScriptedApiServer.Hanging();

        using var recorder = Record(Config(server, idle: TimeSpan.FromSeconds(30), clientTimeout: TimeSpan.FromMilliseconds(200)));

        await recorder.WaitForStatusAsync(s => s.Health == DiscoveryHealth.Failing, Timeout, "a failing status");
        Assert.That(recorder.Status!.Message, Does.Contain("no answer within 00:00:00.2").And.Contain("HttpClientTimeout").And.Not.Contain("IdleTimeout"));
    }

    [Test]
    public async Task ListNeverAnswered_IdleTimeoutFiresFirst_MessageNamesTheIdleTimeout()
    {
        await using var server = ScriptedApiServer.Hanging();

        using var recorder = Record(Config(server, idle: TimeSpan.FromMilliseconds(200), clientTimeout: TimeSpan.FromSeconds(30)));

        await recorder.WaitForStatusAsync(s => s.Health == DiscoveryHealth.Failing, Timeout, "a failing status");
        Assert.That(recorder.Status!.Message, Does.Contain("no answer within 00:00:00.2").And.Contain("DiscoveryConfig.IdleTimeout").And.Not.Contain("HttpClientTimeout"));
    }
}
