using System.Text;
using Xunit;

namespace Trellis.Ipam.Tests;

public sealed class AllocationRecordFormatTests
{
    private static readonly Attachment Owner = new("0123456789abcdef", "eth0");
    private static readonly DateTimeOffset Created = new DateTimeOffset(2026, 11, 30, 21, 37, 51, TimeSpan.Zero).AddTicks(9055704);

    [Fact]
    public void ARecordRoundTripsWithEveryField()
    {
        var record = new AllocationRecord(Owner, new PodIdentity("default", "web-1", "8f1c6a2e-1b7d-4a55-9c1e-2f0d3b4a5c6d"), Created);
        var bytes = AllocationRecordFormat.Encode(record);
        Assert.Equal(
            """{"format":1,"containerId":"0123456789abcdef","ifName":"eth0","podNamespace":"default","podName":"web-1","podUid":"8f1c6a2e-1b7d-4a55-9c1e-2f0d3b4a5c6d","created":"2026-11-30T21:37:51.9055704Z"}""" + "\n",
            Encoding.UTF8.GetString(bytes));
        Assert.Equal(record, AllocationRecordFormat.Decode(bytes));
    }

    [Fact]
    public void APodPartNotGivenIsLeftOutAndReadBackAsNull()
    {
        var record = new AllocationRecord(Owner, new PodIdentity("default", "web-1", null), Created);
        var text = Encoding.UTF8.GetString(AllocationRecordFormat.Encode(record));
        Assert.DoesNotContain("podUid", text);
        Assert.Equal(record, AllocationRecordFormat.Decode(Encoding.UTF8.GetBytes(text)));

        var anonymous = record with { Pod = null };
        Assert.Equal(anonymous, AllocationRecordFormat.Decode(AllocationRecordFormat.Encode(anonymous)));
    }

    [Theory]
    [InlineData("0123456789abcdef\neth0")]
    [InlineData("0123456789abcdef\r\neth0")]
    [InlineData("0123456789abcdef\neth0\n")]
    public void TheFormerFormatIsReadWithTheFilesTime(string content)
    {
        var modified = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var record = AllocationRecordFormat.Decode(Encoding.UTF8.GetBytes(content), modified);
        Assert.NotNull(record);
        Assert.True(record.IsLegacy);
        Assert.Equal(Owner, record.Owner);
        Assert.Null(record.Pod);
        Assert.Equal(modified, record.Created);
    }

    [Theory]
    [InlineData("")]
    [InlineData("only-a-container-id")]
    [InlineData("\neth0")]
    [InlineData("c1\n")]
    [InlineData("{")]
    [InlineData("{}")]
    [InlineData("[1,2]")]
    [InlineData("""{"format":1,"ifName":"eth0"}""")]
    [InlineData("""{"format":1,"containerId":"c"}""")]
    [InlineData("""{"format":1,"containerId":"","ifName":"eth0"}""")]
    [InlineData("""{"containerId":"c","ifName":"eth0"}""")]
    [InlineData("""{"format":0,"containerId":"c","ifName":"eth0"}""")]
    [InlineData("""{"format":"1","containerId":"c","ifName":"eth0"}""")]
    [InlineData("""{"format":1,"containerId":7,"ifName":"eth0"}""")]
    [InlineData("""{"format":1,"containerId":"c","ifName":"eth0","created":"yesterday"}""")]
    public void WhatIsNotARecordReadsAsNone(string content) =>
        Assert.Null(AllocationRecordFormat.Decode(Encoding.UTF8.GetBytes(content)));

    [Fact]
    public void InvalidUtf8AndOversizedContentReadAsNone()
    {
        Assert.Null(AllocationRecordFormat.Decode([0xff, 0xfe, (byte)'\n', (byte)'x']));
        Assert.Null(AllocationRecordFormat.Decode(Encoding.UTF8.GetBytes("c\n" + new string('x', AllocationRecordFormat.MaxBytes))));
    }

    [Fact]
    public void FieldsALaterFormatAddsAreIgnored()
    {
        var text = """{"format":2,"containerId":"c","ifName":"eth0","hostInterface":"v","future":{"nested":[1,2]},"podName":"p"}""";
        var record = AllocationRecordFormat.Decode(Encoding.UTF8.GetBytes(text));
        Assert.Equal(new AllocationRecord(new Attachment("c", "eth0"), new PodIdentity(null, "p", null), null, 2), record);
    }
}
