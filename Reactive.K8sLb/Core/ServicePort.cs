using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Reactive.K8sLb;

/// <summary>
/// The port to connect to on each endpoint: either a number (1..65535), used as is, or a port name (IANA service
/// name syntax), looked up in each EndpointSlice's <c>ports</c> so that slices may map it to different numbers.
/// </summary>
/// <remarks>
/// Create one with <see cref="FromNumber"/>, <see cref="FromName"/>, <see cref="Parse(string)"/> or
/// <see cref="TryParse(string, out ServicePort)"/>. There are no conversion operators (a conversion must not throw,
/// and a bad number or name must fail with a message naming the rule). <c>default(ServicePort)</c> is not a port and
/// is rejected where a port is required. A <see cref="TypeConverter"/> converts from and to the text form, so a port
/// can be bound from configuration.
/// </remarks>
[TypeConverter(typeof(ServicePortConverter))]
public readonly struct ServicePort : IEquatable<ServicePort>, ISpanParsable<ServicePort>
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
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is <see langword="null"/>.</exception>
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

    /// <summary>Parses a port number or name, as written after the colon in <c>k8s:///svc:grpc</c> or
    /// <c>k8s:///svc:50051</c>.</summary>
    /// <param name="value">Only ASCII digits for a number (1..65535); anything else is read as an IANA service
    /// name.</param>
    /// <returns>The port.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="value"/> is <see langword="null"/>.</exception>
    /// <exception cref="FormatException"><paramref name="value"/> is neither a number between 1 and 65535 nor a valid
    /// IANA service name; the message names the value and the rule it breaks.</exception>
    public static ServicePort Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return TryParse(value.AsSpan(), out var port, out var error) ? port : throw new FormatException(error);
    }

    /// <summary>Tries to parse a port number or name, as <see cref="Parse(string)"/> does, without throwing.</summary>
    /// <param name="value">The text, or <see langword="null"/>.</param>
    /// <param name="port">The port, or <c>default(ServicePort)</c> when the text is not a port.</param>
    /// <returns>Whether <paramref name="value"/> is a port.</returns>
    public static bool TryParse([NotNullWhen(true)] string? value, out ServicePort port)
    {
        if (value is null)
        {
            port = default;
            return false;
        }

        return TryParse(value.AsSpan(), out port, out _);
    }

    /// <inheritdoc />
    static ServicePort IParsable<ServicePort>.Parse(string s, IFormatProvider? provider) => Parse(s);

    /// <inheritdoc />
    static bool IParsable<ServicePort>.TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider, out ServicePort result) =>
        TryParse(s, out result);

    /// <inheritdoc />
    static ServicePort ISpanParsable<ServicePort>.Parse(ReadOnlySpan<char> s, IFormatProvider? provider) =>
        TryParse(s, out var port, out var error) ? port : throw new FormatException(error);

    /// <inheritdoc />
    static bool ISpanParsable<ServicePort>.TryParse(ReadOnlySpan<char> s, IFormatProvider? provider, out ServicePort result) =>
        TryParse(s, out result, out _);

    /// <summary>Compares two ports.</summary>
    /// <param name="left">The first port.</param>
    /// <param name="right">The second port.</param>
    /// <returns>Whether both are the same number or the same name.</returns>
    public static bool operator ==(ServicePort left, ServicePort right) => left.Equals(right);

    /// <summary>Compares two ports.</summary>
    /// <param name="left">The first port.</param>
    /// <param name="right">The second port.</param>
    /// <returns>Whether they differ.</returns>
    public static bool operator !=(ServicePort left, ServicePort right) => !left.Equals(right);

    /// <inheritdoc />
    public bool Equals(ServicePort other) => _number == other._number && string.Equals(Name, other.Name, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is ServicePort other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_number, Name);

    /// <summary>The number or the name, in the form <see cref="Parse(string)"/> reads.</summary>
    /// <returns>The port as written in an address.</returns>
    public override string ToString() => Name ?? _number.ToString(CultureInfo.InvariantCulture);

    internal bool IsDefault => _number == 0 && Name is null;

    /// <summary>Parses without throwing: all ASCII digits is a number, anything else a name.</summary>
    /// <param name="value">The text.</param>
    /// <param name="port">The port, or <c>default</c> on failure.</param>
    /// <param name="error">On failure, a message naming the value and the rule it breaks.</param>
    /// <returns>Whether <paramref name="value"/> is a port.</returns>
    internal static bool TryParse(ReadOnlySpan<char> value, out ServicePort port, [NotNullWhen(false)] out string? error)
    {
        port = default;
        string? problem;
        if (value.IsEmpty)
        {
            problem = "it is empty; write a port number between 1 and 65535 or a port name such as 'grpc'";
        }
        else if (!value.ContainsAnyExceptInRange('0', '9'))
        {
            if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number is >= 1 and <= 65535)
            {
                port = new ServicePort(number, null);
                error = null;
                return true;
            }

            problem = "a port number must be between 1 and 65535";
        }
        else
        {
            var name = value.ToString();
            problem = ValidateName(name);
            if (problem is null)
            {
                port = new ServicePort(0, name);
                error = null;
                return true;
            }

            problem = $"a port that is not all digits is a name, which must be an IANA service name ({problem})";
        }

        error = $"'{value}' is not a valid port: {problem}.";
        return false;
    }

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

/// <summary>Converts a <see cref="ServicePort"/> from and to its text form (<see cref="ServicePort.Parse(string)"/>,
/// <see cref="ServicePort.ToString"/>), for configuration binding.</summary>
internal sealed class ServicePortConverter : TypeConverter
{
    public override bool CanConvertFrom(ITypeDescriptorContext? context, Type sourceType) =>
        sourceType == typeof(string) || base.CanConvertFrom(context, sourceType);

    public override bool CanConvertTo(ITypeDescriptorContext? context, Type? destinationType) =>
        destinationType == typeof(string) || base.CanConvertTo(context, destinationType);

    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) =>
        value is string text ? ServicePort.Parse(text.Trim()) : base.ConvertFrom(context, culture, value);

    public override object? ConvertTo(ITypeDescriptorContext? context, CultureInfo? culture, object? value, Type destinationType) =>
        destinationType == typeof(string) && value is ServicePort port ? port.ToString() : base.ConvertTo(context, culture, value, destinationType);
}
