using System.Net.Sockets;
using Xunit;

namespace Trellis.Addressing.Tests;

public sealed class IpFamilyNameTests
{
    [Fact]
    public void Families_are_named_as_messages_and_the_API_spell_them()
    {
        Assert.Equal("IPv4", IpFamilyName.Of(AddressFamily.InterNetwork));
        Assert.Equal("IPv6", IpFamilyName.Of(AddressFamily.InterNetworkV6));
        Assert.Throws<ArgumentException>(() => IpFamilyName.Of(AddressFamily.Unix));
    }
}
