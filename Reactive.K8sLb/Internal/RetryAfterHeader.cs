using System.Globalization;
using System.Net;
using k8s.Autorest;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// The <c>Retry-After</c> of a 429 or 503 answer (API Priority and Fairness sends it when it sheds load), as
/// KubernetesClient surfaces it: a header of <see cref="HttpOperationException.Response"/>.
/// </summary>
internal static class RetryAfterHeader
{
    /// <summary>How long the server asked us to wait, or <see langword="null"/> if it did not ask.</summary>
    /// <param name="error">Any failure; only a 429 or 503 <see cref="HttpOperationException"/> can carry the header.</param>
    /// <param name="now">The current time, for the HTTP-date form.</param>
    public static TimeSpan? Of(Exception error, DateTimeOffset now)
    {
        if (error is not HttpOperationException { Response: { StatusCode: HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable } response })
        {
            return null;
        }

        // The wrapper copies the headers into a case-sensitive dictionary: match the name without regard to case.
        var value = response.Headers
            .Where(header => string.Equals(header.Key, "Retry-After", StringComparison.OrdinalIgnoreCase))
            .SelectMany(header => header.Value)
            .FirstOrDefault();
        return Parse(value, now);
    }

    /// <summary>Parses either form of the header: delay-seconds (<c>120</c>) or an HTTP-date (<c>Fri, 31 Dec 1999 23:59:59 GMT</c>).</summary>
    /// <param name="value">The header value.</param>
    /// <param name="now">The current time, for the HTTP-date form.</param>
    public static TimeSpan? Parse(string? value, DateTimeOffset now)
    {
        value = value?.Trim();
        if (string.IsNullOrEmpty(value)) return null;
        if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromSeconds(Math.Min(seconds, (long)TimeSpan.MaxValue.TotalSeconds));
        }

        if (DateTimeOffset.TryParseExact(value, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
        {
            var wait = date - now;
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }
}
