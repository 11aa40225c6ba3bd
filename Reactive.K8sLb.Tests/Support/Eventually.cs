using System.Diagnostics;

namespace Reactive.K8sLb.Tests.Support;

/// <summary>
/// The one way tests wait for asynchronous outcomes: a condition re-checked until it holds, failing the test after a
/// timeout (<see cref="DefaultTimeout"/> unless given). Either polled every few milliseconds, or re-checked whenever a
/// <see cref="ChangeSignal"/> pulses (with the same short poll as a safety net for state the signal does not cover).
/// </summary>
internal static class Eventually
{
    /// <summary>Generous enough for a loaded 2-core CI machine.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    public static Task That(Func<bool> condition, string what) => That(condition, DefaultTimeout, what);

    public static Task That(Func<bool> condition, TimeSpan timeout, string what) =>
        Until(() => Task.FromResult(condition()), signal: null, timeout, () => what);

    /// <summary>Polls an asynchronous condition (for conditions that make calls).</summary>
    public static Task That(Func<Task<bool>> condition, TimeSpan timeout, string what) =>
        Until(condition, signal: null, timeout, () => what);

    /// <summary>Re-checks <paramref name="condition"/> whenever <paramref name="signal"/> pulses, and every few milliseconds.</summary>
    public static Task That(Func<bool> condition, ChangeSignal signal, string what, TimeSpan? timeout = null) =>
        That(condition, signal, () => what, timeout);

    /// <summary>As above; <paramref name="describe"/> is evaluated on timeout, so it can report the state reached.</summary>
    public static Task That(Func<bool> condition, ChangeSignal signal, Func<string> describe, TimeSpan? timeout = null) =>
        Until(() => Task.FromResult(condition()), signal, timeout ?? DefaultTimeout, describe);

    private static async Task Until(Func<Task<bool>> condition, ChangeSignal? signal, TimeSpan timeout, Func<string> describe)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var changed = signal?.NextChange;
            if (await condition())
            {
                return;
            }

            var left = timeout - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                Assert.Fail($"Timed out after {timeout.TotalSeconds:0.#} s waiting for: {describe()}");
            }

            var poll = Task.Delay(left < PollInterval ? left : PollInterval);
            await (changed is null ? poll : Task.WhenAny(changed, poll));
        }
    }
}
