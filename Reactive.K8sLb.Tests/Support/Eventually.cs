namespace Reactive.K8sLb.Tests.Support;

/// <summary>The one way tests wait for asynchronous outcomes: poll a condition with a short delay, up to a timeout.</summary>
internal static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    public static async Task That(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out after {timeout.TotalSeconds:0.#} s waiting for: {what}");
            await Task.Delay(10);
        }
    }

    public static Task That(Func<bool> condition, string what) => That(condition, DefaultTimeout, what);

    /// <summary>Polls an asynchronous condition (for conditions that make calls).</summary>
    public static async Task That(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out after {timeout.TotalSeconds:0.#} s waiting for: {what}");
            await Task.Delay(10);
        }
    }
}
