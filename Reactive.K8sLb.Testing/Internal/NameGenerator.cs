namespace Reactive.K8sLb.Testing.Internal;

/// <summary>Random name suffixes from the alphabet the API server's generateName uses (no vowels, no confusable digits).</summary>
internal sealed class NameGenerator(int? seed)
{
    private const string Alphabet = "bcdfghjklmnpqrstvwxz2456789";

    // CA5394: not security relevant; a seedable Random keeps generated names reproducible in tests.
#pragma warning disable CA5394
    private readonly Random _random = seed is { } s ? new Random(s) : new Random();

    /// <summary>Returns <paramref name="prefix"/> followed by 5 random characters; call under the emulator lock.</summary>
    public string Generate(string prefix) =>
        string.Create(prefix.Length + 5, (prefix, _random), static (span, state) =>
        {
            state.prefix.AsSpan().CopyTo(span);
            for (var i = state.prefix.Length; i < span.Length; i++)
            {
                span[i] = Alphabet[state._random.Next(Alphabet.Length)];
            }
        });
#pragma warning restore CA5394
}
