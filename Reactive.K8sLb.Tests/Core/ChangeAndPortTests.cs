using System.Net;

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
    public void ServicePort_ImplicitFromInt_IsNumeric()
    {
        ServicePort port = 50051;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(port.Number, Is.EqualTo(50051));
            Assert.That(port.Name, Is.Null);
            Assert.That(port.IsNamed, Is.False);
            Assert.That(port.ToString(), Is.EqualTo("50051"));
        }
    }

    [Test]
    public void ServicePort_ImplicitFromString_IsNamed()
    {
        ServicePort port = "grpc";

        using (Assert.EnterMultipleScope())
        {
            Assert.That(port.Name, Is.EqualTo("grpc"));
            Assert.That(port.Number, Is.Null);
            Assert.That(port.IsNamed, Is.True);
            Assert.That(port.ToString(), Is.EqualTo("grpc"));
        }
    }

    [Test]
    public void ServicePort_Parse_DigitsGiveNumberOtherwiseName()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(ServicePort.Parse("8080"), Is.EqualTo(ServicePort.FromNumber(8080)));
            Assert.That(ServicePort.Parse("h2c-grpc"), Is.EqualTo(ServicePort.FromName("h2c-grpc")));
            Assert.That(ServicePort.Parse("1"), Is.EqualTo(ServicePort.FromNumber(1)));
            Assert.That(ServicePort.Parse("65535"), Is.EqualTo(ServicePort.FromNumber(65535)));
        }
    }

    [TestCase("0")]
    [TestCase("65536")]
    [TestCase("99999999999999")]
    public void ServicePort_ParseNumberOutOfRange_Throws(string value)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ServicePort.Parse(value));
    }

    [Test]
    public void ServicePort_ParseNull_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => ServicePort.Parse(null!));
    }

    [TestCase(0)]
    [TestCase(-1)]
    [TestCase(65536)]
    public void ServicePort_NumberOutOfRange_ThrowsNamingNumber(int number)
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
    public void ServicePort_InvalidName_ThrowsNamingRule(string name, string rule)
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
    public void ServicePort_ValidName_IsAccepted(string name)
    {
        Assert.That(ServicePort.FromName(name).Name, Is.EqualTo(name));
    }

    [Test]
    public void ServicePort_Equality_ComparesNumberAndName()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That((ServicePort)80 == 80, Is.True);
            Assert.That((ServicePort)"http" != 80, Is.True);
            Assert.That(((ServicePort)"http").GetHashCode(), Is.EqualTo(((ServicePort)"http").GetHashCode()));
        }
    }
}
