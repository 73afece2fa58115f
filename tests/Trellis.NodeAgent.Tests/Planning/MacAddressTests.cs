using System.Net;
using Trellis.NodeAgent.Planning;

namespace Trellis.NodeAgent.Tests.Planning;

public sealed class MacAddressTests
{
    [Fact]
    public void Ipv4_vtep_mac_embeds_the_address_behind_a_local_unicast_prefix()
    {
        var mac = MacAddress.ForVtep(IPAddress.Parse("192.168.1.12"));
        Assert.Equal("0e:74:c0:a8:01:0c", mac.ToString());
        var first = mac.ToBytes()[0];
        Assert.Equal(0x02, first & 0x02);
        Assert.Equal(0x00, first & 0x01);
    }

    [Fact]
    public void Ipv6_vtep_mac_is_a_stable_hash_and_differs_between_nodes()
    {
        var a = MacAddress.ForVtep(IPAddress.Parse("fd00::11"));
        Assert.Equal(a, MacAddress.ForVtep(IPAddress.Parse("fd00::11")));
        Assert.NotEqual(a, MacAddress.ForVtep(IPAddress.Parse("fd00::12")));
        Assert.StartsWith("0e:74:", a.ToString());
    }

    [Fact]
    public void Parse_and_format_round_trip_and_bad_text_is_refused()
    {
        Assert.Equal("0e:74:00:ff:10:01", MacAddress.Parse("0e:74:00:ff:10:01").ToString());
        Assert.Equal(MacAddress.Parse("0e:74:00:ff:10:01"), MacAddress.FromBytes(MacAddress.Parse("0e:74:00:ff:10:01").ToBytes()));
        Assert.Throws<FormatException>(() => MacAddress.Parse("0e:74:00:ff:10"));
        Assert.Throws<FormatException>(() => MacAddress.Parse("0e:74:00:ff:10:zz"));
    }
}
