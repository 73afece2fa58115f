using Trellis.ControllerRuntime.Queue;
using Xunit;

namespace Trellis.ControllerRuntime.Tests.Queue;

public sealed class ExponentialBackoffTests
{
    [Fact]
    public void DelaysDoubleFromTheBaseUpToTheCap()
    {
        var backoff = new ExponentialBackoff<string>(TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(100));
        var delays = Enumerable.Range(0, 8).Select(_ => backoff.When("a").TotalMilliseconds).ToArray();
        Assert.Equal(new double[] { 5, 10, 20, 40, 80, 100, 100, 100 }, delays);
        Assert.Equal(8, backoff.Failures("a"));
    }

    [Fact]
    public void KeysBackOffIndependently()
    {
        var backoff = new ExponentialBackoff<string>(TimeSpan.FromMilliseconds(5), TimeSpan.FromMinutes(5));
        backoff.When("a");
        backoff.When("a");
        Assert.Equal(TimeSpan.FromMilliseconds(5), backoff.When("b"));
        Assert.Equal(TimeSpan.FromMilliseconds(20), backoff.When("a"));
    }

    [Fact]
    public void ForgetRestartsFromTheBaseDelay()
    {
        var backoff = new ExponentialBackoff<string>(TimeSpan.FromMilliseconds(5), TimeSpan.FromMinutes(5));
        backoff.When("a");
        backoff.When("a");
        backoff.Forget("a");
        Assert.Equal(0, backoff.Failures("a"));
        Assert.Equal(TimeSpan.FromMilliseconds(5), backoff.When("a"));
    }

    [Fact]
    public void HugeFailureCountsStayAtTheCapWithoutOverflow()
    {
        var backoff = new ExponentialBackoff<int>(TimeSpan.FromMilliseconds(5), TimeSpan.FromMinutes(5));
        var last = TimeSpan.Zero;
        for (var i = 0; i < 200; i++)
        {
            var delay = backoff.When(1);
            Assert.True(delay >= last, $"delay {delay} after {last} at failure {i}");
            Assert.True(delay <= TimeSpan.FromMinutes(5));
            last = delay;
        }
        Assert.Equal(TimeSpan.FromMinutes(5), last);
    }

    [Fact]
    public void DefaultIsFiveMillisecondsToFiveMinutes()
    {
        var backoff = ExponentialBackoff<string>.Default();
        Assert.Equal(TimeSpan.FromMilliseconds(5), backoff.BaseDelay);
        Assert.Equal(TimeSpan.FromMinutes(5), backoff.MaxDelay);
    }

    [Fact]
    public void RejectsNonPositiveBaseAndCapBelowBase()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialBackoff<string>(TimeSpan.Zero, TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialBackoff<string>(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1)));
    }
}
