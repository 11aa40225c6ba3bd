using System.Globalization;

namespace Reactive.K8sLb;

/// <summary>
/// The port to connect to on each endpoint: either a number (1..65535), used as is, or a port name (IANA service
/// name syntax), looked up in each EndpointSlice's <c>ports</c> so that slices may map it to different numbers.
/// </summary>
public readonly struct ServicePort : IEquatable<ServicePort>
{
    private readonly int _number;

    private ServicePort(int number, string? name)
    {
        _number = number;
        Name = name;
    }

    /// <summary>The port number, or <see langword="null"/> when the port is given by name.</summary>
    public int? Number => Name is null ? _number : null;

    /// <summary>The port name, or <see langword="null"/> when the port is given by number.</summary>
    public string? Name { get; }

    /// <summary>Whether the port is given by name.</summary>
    public bool IsNamed => Name is not null;

    /// <summary>Creates a numeric port.</summary>
    /// <param name="number">The port number, 1..65535.</param>
    /// <returns>The port.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The number is outside 1..65535.</exception>
    public static ServicePort FromNumber(int number)
    {
        if (number is < 1 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(number), number, "Port number must be between 1 and 65535.");
        }

        return new ServicePort(number, null);
    }

    /// <summary>Creates a named port.</summary>
    /// <param name="name">An IANA service name: at most 15 characters of lower-case letters, digits and '-', with at
    /// least one letter and no leading, trailing or double '-'.</param>
    /// <returns>The port.</returns>
    /// <exception cref="ArgumentException">The name does not follow the IANA service name syntax.</exception>
    public static ServicePort FromName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var problem = ValidateName(name);
        if (problem is not null)
        {
            throw new ArgumentException($"Port name '{name}' is not a valid IANA service name: {problem}.", nameof(name));
        }

        return new ServicePort(0, name);
    }

    /// <summary>Parses a port number or name, as in <c>k8s:///svc:grpc</c> or <c>k8s:///svc:50051</c>.</summary>
    /// <param name="value">Digits for a number; anything else is treated as a name.</param>
    /// <returns>The port.</returns>
    public static ServicePort Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.Length > 0 && value.All(char.IsAsciiDigit)
            ? FromNumber(int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1)
            : FromName(value);
    }

    /// <summary>Converts a port number.</summary>
    /// <param name="number">The port number, 1..65535.</param>
    public static implicit operator ServicePort(int number) => FromNumber(number);

    /// <summary>Converts a port name.</summary>
    /// <param name="name">An IANA service name.</param>
    public static implicit operator ServicePort(string name) => FromName(name);

    /// <summary>Compares two ports.</summary>
    /// <param name="left">The first port.</param>
    /// <param name="right">The second port.</param>
    public static bool operator ==(ServicePort left, ServicePort right) => left.Equals(right);

    /// <summary>Compares two ports.</summary>
    /// <param name="left">The first port.</param>
    /// <param name="right">The second port.</param>
    public static bool operator !=(ServicePort left, ServicePort right) => !left.Equals(right);

    /// <inheritdoc />
    public bool Equals(ServicePort other) => _number == other._number && string.Equals(Name, other.Name, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is ServicePort other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_number, Name);

    /// <summary>The number or the name.</summary>
    /// <returns>The port as written in an address.</returns>
    public override string ToString() => Name ?? _number.ToString(CultureInfo.InvariantCulture);

    /// <summary>Converts a port number (the named alternative to the implicit operator).</summary>
    /// <param name="number">The port number.</param>
    /// <returns>The port.</returns>
    public static ServicePort ToServicePort(int number) => FromNumber(number);

    internal bool IsDefault => _number == 0 && Name is null;

    private static string? ValidateName(string name)
    {
        if (name.Length is 0 or > 15) return "it must have 1 to 15 characters";
        if (name.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')))
            return "only lower-case letters, digits and '-' are allowed";
        if (!name.Any(char.IsAsciiLetterLower)) return "it must contain at least one letter";
        if (name[0] == '-' || name[^1] == '-') return "it must not start or end with '-'";
        if (name.Contains("--", StringComparison.Ordinal)) return "it must not contain '--'";
        return null;
    }
}
