using System.ComponentModel;
using System.Globalization;
using System.Net;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Reactive.K8sLb.Tests.Core;

public sealed class ChangeTests
{
    [Test]
    public void Change_SameKindAndItem_AreEqual()
    {
        var a = Change.Insert(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 8080));
        var b = new Change<IPEndPoint>(ChangeKind.Insert, new IPEndPoint(IPAddress.Parse("10.0.0.1"), 8080));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(a, Is.EqualTo(b));
            Assert.That(a == b, Is.True);
            Assert.That(a.GetHashCode(), Is.EqualTo(b.GetHashCode()));
        }
    }

    [Test]
    public void Change_DifferentKindOrItem_AreNotEqual()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Change.Insert(1), Is.Not.EqualTo(Change.Remove(1)));
            Assert.That(Change.Insert(1), Is.Not.EqualTo(Change.Insert(2)));
        }
    }

    [Test]
    public void Change_Factories_SetKindAndItem()
    {
        var insert = Change.Insert("x");
        var remove = Change.Remove("y");

        using (Assert.EnterMultipleScope())
        {
            Assert.That((insert.Kind, insert.Item), Is.EqualTo((ChangeKind.Insert, "x")));
            Assert.That((remove.Kind, remove.Item), Is.EqualTo((ChangeKind.Remove, "y")));
        }
    }

    [Test]
    public void Change_ToString_IsKindThenItem()
    {
        var change = Change.Insert(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 8080));

        Assert.That(change.ToString(), Is.EqualTo("Insert 10.0.0.1:8080"));
    }

    [Test]
    public void ChangeKind_Values_AreExplicit()
    {
        Assert.That(new[] { (int)ChangeKind.Insert, (int)ChangeKind.Remove }, Is.EqualTo(new[] { 0, 1 }));
    }
}

public sealed class ServicePortTests
{
    [Test]
    public void FromNumber_ValidNumber_IsNumeric()
    {
        var port = ServicePort.FromNumber(50051);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(port.Number, Is.EqualTo(50051));
            Assert.That(port.Name, Is.Null);
            Assert.That(port.IsNamed, Is.False);
            Assert.That(port.ToString(), Is.EqualTo("50051"));
        }
    }

    [Test]
    public void FromName_ValidName_IsNamed()
    {
        var port = ServicePort.FromName("grpc");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(port.Name, Is.EqualTo("grpc"));
            Assert.That(port.Number, Is.Null);
            Assert.That(port.IsNamed, Is.True);
            Assert.That(port.ToString(), Is.EqualTo("grpc"));
        }
    }

    [Test]
    public void Type_HasNoConversionOperators()
    {
        var conversions = typeof(ServicePort).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Where(m => m.Name is "op_Implicit" or "op_Explicit");

        Assert.That(conversions, Is.Empty);
    }

    [TestCase("8080", 8080)]
    [TestCase("1", 1)]
    [TestCase("65535", 65535)]
    [TestCase("080", 80)]
    public void Parse_AllDigits_GivesNumber(string value, int number)
    {
        Assert.That(ServicePort.Parse(value), Is.EqualTo(ServicePort.FromNumber(number)));
    }

    [TestCase("grpc")]
    [TestCase("h2c-grpc")]
    [TestCase("8o")]
    [TestCase("abcdefghijklmno")]
    public void Parse_NotAllDigits_GivesName(string value)
    {
        Assert.That(ServicePort.Parse(value), Is.EqualTo(ServicePort.FromName(value)));
    }

    [TestCase("0")]
    [TestCase("65536")]
    [TestCase("99999999999999")]
    public void Parse_NumberOutOfRange_ThrowsFormatExceptionNamingValueAndRange(string value)
    {
        Assert.That(() => ServicePort.Parse(value), Throws.TypeOf<FormatException>()
            .With.Message.EqualTo($"'{value}' is not a valid port: a port number must be between 1 and 65535."));
    }

    [TestCase("", "it is empty")]
    [TestCase("Grpc", "only lower-case letters, digits and '-' are allowed")]
    [TestCase("grpc_web", "only lower-case letters, digits and '-' are allowed")]
    [TestCase(" 80", "only lower-case letters, digits and '-' are allowed")]
    [TestCase("+80", "only lower-case letters, digits and '-' are allowed")]
    [TestCase("-80", "at least one letter")]
    [TestCase("abcdefghijklmnop", "1 to 15 characters")]
    [TestCase("-grpc", "must not start or end with '-'")]
    [TestCase("grpc--web", "must not contain '--'")]
    public void Parse_InvalidText_ThrowsFormatExceptionNamingValueAndRule(string value, string rule)
    {
        Assert.That(() => ServicePort.Parse(value), Throws.TypeOf<FormatException>()
            .With.Message.StartsWith($"'{value}' is not a valid port: ")
            .And.Message.Contains(rule));
    }

    [Test]
    public void Parse_Name_MessageSaysWhyTheTextIsAName()
    {
        Assert.That(() => ServicePort.Parse("Grpc"), Throws.TypeOf<FormatException>()
            .With.Message.Contains("not all digits is a name, which must be an IANA service name"));
    }

    [Test]
    public void Parse_Null_ThrowsArgumentNullException()
    {
        Assert.That(() => ServicePort.Parse(null!), Throws.ArgumentNullException.With.Property(nameof(ArgumentException.ParamName)).EqualTo("value"));
    }

    [TestCase("50051")]
    [TestCase("grpc")]
    public void TryParse_ValidText_ReturnsTrueAndThePort(string value)
    {
        var parsed = ServicePort.TryParse(value, out var port);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(parsed, Is.True);
            Assert.That(port, Is.EqualTo(ServicePort.Parse(value)));
        }
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("0")]
    [TestCase("65536")]
    [TestCase("Grpc")]
    public void TryParse_InvalidText_ReturnsFalseAndDefault(string? value)
    {
        var parsed = ServicePort.TryParse(value, out var port);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(parsed, Is.False);
            Assert.That(port, Is.EqualTo(default(ServicePort)));
        }
    }

    [TestCase("50051")]
    [TestCase("grpc")]
    public void ToString_ParsesBackToTheSamePort(string value)
    {
        var port = ServicePort.Parse(value);

        Assert.That(ServicePort.Parse(port.ToString()), Is.EqualTo(port));
    }

    [Test]
    public void GenericParsing_IParsableAndISpanParsable_BehaveAsParse()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(ParseVia<ServicePort>("grpc"), Is.EqualTo(ServicePort.FromName("grpc")));
            Assert.That(SpanParseVia<ServicePort>("8080"), Is.EqualTo(ServicePort.FromNumber(8080)));
            Assert.That(TryParseVia<ServicePort>("Grpc", out _), Is.False);
            Assert.That(SpanTryParseVia<ServicePort>("443", out var port) ? port : default, Is.EqualTo(ServicePort.FromNumber(443)));
            Assert.That(() => SpanParseVia<ServicePort>("0"), Throws.TypeOf<FormatException>().With.Message.Contains("'0'"));
        }
    }

    [Test]
    public void TypeConverter_ConvertsFromAndToText()
    {
        var converter = TypeDescriptor.GetConverter(typeof(ServicePort));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(converter.ConvertFromInvariantString("grpc"), Is.EqualTo(ServicePort.FromName("grpc")));
            Assert.That(converter.ConvertFromInvariantString("50051"), Is.EqualTo(ServicePort.FromNumber(50051)));
            Assert.That(converter.ConvertToInvariantString(ServicePort.FromNumber(443)), Is.EqualTo("443"));
            Assert.That(() => converter.ConvertFromInvariantString("Grpc"), Throws.TypeOf<FormatException>().With.Message.Contains("'Grpc'"));
        }
    }

    [Test]
    public void ConfigurationBinding_DefaultPort_BindsFromText()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["K8sLb:DefaultPort"] = "grpc" })
            .Build();

        var options = configuration.GetSection("K8sLb").Get<KubernetesLoadBalancingOptions>();

        Assert.That(options?.DefaultPort, Is.EqualTo(ServicePort.FromName("grpc")));
    }

    [Test]
    public void ConfigurationBinding_InvalidDefaultPort_FailsNamingTheValue()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["K8sLb:DefaultPort"] = "70000" })
            .Build();

        var ex = Assert.Throws<InvalidOperationException>(() => configuration.GetSection("K8sLb").Get<KubernetesLoadBalancingOptions>())!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ex.Message, Does.Contain("K8sLb:DefaultPort"));
            Assert.That(ex.InnerException, Is.TypeOf<FormatException>().With.Message.Contains("'70000'").And.Message.Contains("between 1 and 65535"));
        }
    }

    [TestCase(0)]
    [TestCase(-1)]
    [TestCase(65536)]
    public void FromNumber_OutOfRange_ThrowsNamingNumber(int number)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ServicePort.FromNumber(number))!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ex.ParamName, Is.EqualTo("number"));
            Assert.That(ex.Message, Does.Contain("Port number"));
        }
    }

    [TestCase("abcdefghijklmnop", "1 to 15 characters")]
    [TestCase("", "1 to 15 characters")]
    [TestCase("Grpc", "lower-case")]
    [TestCase("grpc_web", "lower-case")]
    [TestCase("1234-5", "at least one letter")]
    [TestCase("-grpc", "start or end")]
    [TestCase("grpc-", "start or end")]
    [TestCase("grpc--web", "'--'")]
    public void FromName_InvalidName_ThrowsNamingRule(string name, string rule)
    {
        var ex = Assert.Throws<ArgumentException>(() => ServicePort.FromName(name))!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ex.ParamName, Is.EqualTo("name"));
            Assert.That(ex.Message, Does.Contain("Port name").And.Contain(rule));
        }
    }

    [TestCase("abcdefghijklmno")]
    [TestCase("a")]
    [TestCase("h2-c0")]
    [TestCase("1a")]
    public void FromName_ValidName_IsAccepted(string name)
    {
        Assert.That(ServicePort.FromName(name).Name, Is.EqualTo(name));
    }

    [Test]
    public void Equality_ComparesNumberAndName()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(ServicePort.FromNumber(80) == ServicePort.Parse("80"), Is.True);
            Assert.That(ServicePort.FromName("http") != ServicePort.FromNumber(80), Is.True);
            Assert.That(ServicePort.FromName("http").GetHashCode(), Is.EqualTo(ServicePort.Parse("http").GetHashCode()));
        }
    }

    private static T ParseVia<T>(string s) where T : IParsable<T> => T.Parse(s, CultureInfo.InvariantCulture);

    private static bool TryParseVia<T>(string s, out T? result) where T : IParsable<T> => T.TryParse(s, CultureInfo.InvariantCulture, out result);

    private static T SpanParseVia<T>(string s) where T : ISpanParsable<T> => T.Parse(s.AsSpan(), CultureInfo.InvariantCulture);

    private static bool SpanTryParseVia<T>(string s, out T? result) where T : ISpanParsable<T> => T.TryParse(s.AsSpan(), CultureInfo.InvariantCulture, out result);
}
