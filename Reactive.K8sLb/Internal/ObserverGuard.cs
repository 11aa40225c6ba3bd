using Microsoft.Extensions.Logging;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// Calls a user's observer so that its exception is logged (event 503) instead of travelling back into discovery,
/// where it would look like an API failure or end the watch for everyone else.
/// </summary>
internal static class ObserverGuard
{
    public static void Notify(ILogger logger, Action notify)
    {
        try
        {
            notify();
        }
#pragma warning disable CA1031 // A user's observer that throws must not stop discovery for everyone else.
        catch (Exception error)
#pragma warning restore CA1031
        {
            Log.ObserverFailed(logger, error);
        }
    }

    /// <summary>Wraps <paramref name="inner"/> so that every notification goes through <see cref="Notify"/>.</summary>
    public static IObserver<T> Wrap<T>(IObserver<T> inner, ILogger logger) => new Guarded<T>(inner, logger);

    private sealed class Guarded<T>(IObserver<T> inner, ILogger logger) : IObserver<T>
    {
        public void OnNext(T value) => Notify(logger, () => inner.OnNext(value));

        public void OnError(Exception error) => Notify(logger, () => inner.OnError(error));

        public void OnCompleted() => Notify(logger, inner.OnCompleted);
    }
}
