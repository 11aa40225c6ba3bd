namespace Reactive.K8sLb.Testing.Internal;

/// <summary>An equality-based label selector (<c>k=v</c>, <c>k==v</c>, <c>k!=v</c>, <c>k</c>, <c>!k</c>, comma = AND).</summary>
internal sealed class LabelSelector
{
    private readonly List<(string Key, string? Value, Op Op)> _requirements;

    private LabelSelector(List<(string Key, string? Value, Op Op)> requirements) => _requirements = requirements;

    private enum Op
    {
        Equals,
        NotEquals,
        Exists,
        NotExists,
    }

    public static LabelSelector Everything { get; } = new([]);

    /// <summary>Parses a selector; returns <see langword="false"/> with a message the way the API server rejects bad selectors.</summary>
    public static bool TryParse(string? text, out LabelSelector selector, out string? error)
    {
        selector = Everything;
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        var requirements = new List<(string, string?, Op)>();
        foreach (var raw in text.Split(','))
        {
            var part = raw.Trim();
            if (part.Length == 0)
            {
                error = $"unable to parse requirement: found '', expected: identifier (selector \"{text}\")";
                return false;
            }

            // Set-based requirements (in/notin) are not emulated: reject them loudly instead of mis-filtering.
            if (part.Contains('(', StringComparison.Ordinal))
            {
                error = $"set-based label selectors are not supported by the emulator: \"{part}\"";
                return false;
            }

            int index;
            if ((index = part.IndexOf("!=", StringComparison.Ordinal)) >= 0)
            {
                requirements.Add((part[..index].Trim(), part[(index + 2)..].Trim(), Op.NotEquals));
            }
            else if ((index = part.IndexOf("==", StringComparison.Ordinal)) >= 0)
            {
                requirements.Add((part[..index].Trim(), part[(index + 2)..].Trim(), Op.Equals));
            }
            else if ((index = part.IndexOf('=', StringComparison.Ordinal)) >= 0)
            {
                requirements.Add((part[..index].Trim(), part[(index + 1)..].Trim(), Op.Equals));
            }
            else if (part.StartsWith('!'))
            {
                requirements.Add((part[1..].Trim(), null, Op.NotExists));
            }
            else
            {
                requirements.Add((part, null, Op.Exists));
            }

            if (requirements[^1].Item1.Length == 0 || requirements[^1].Item1.Contains(' ', StringComparison.Ordinal))
            {
                error = $"unable to parse requirement: invalid label key \"{requirements[^1].Item1}\"";
                return false;
            }
        }

        selector = new LabelSelector(requirements);
        return true;
    }

    public bool Matches(IDictionary<string, string>? labels)
    {
        foreach (var (key, value, op) in _requirements)
        {
            string? actual = null;
            var has = labels is not null && labels.TryGetValue(key, out actual);
            var ok = op switch
            {
                Op.Equals => has && actual == value,
                Op.NotEquals => !has || actual != value, // real semantics: a missing key satisfies !=
                Op.Exists => has,
                _ => !has,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }
}
