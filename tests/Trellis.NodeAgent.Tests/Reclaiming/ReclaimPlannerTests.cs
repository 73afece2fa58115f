using System.Net;
using k8s.Models;
using Trellis.Ipam;
using Trellis.NodeAgent.Reclaiming;

namespace Trellis.NodeAgent.Tests.Reclaiming;

/// <summary>The reclaim decision, case by case: every reason to free, every reason not to, and the grace period's edges.</summary>
public sealed class ReclaimPlannerTests
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(60);
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Tick = TimeSpan.FromTicks(1);

    private static readonly PodIdentity Web = new("default", "web-1", "uid-1");
    private static readonly Attachment WebSandbox = new("sandbox-1", "eth0");

    private static Allocation Allocated(string address = "10.244.1.2", PodIdentity? pod = null, Attachment? owner = null, DateTimeOffset? created = null, int format = AllocationRecordFormat.Current) =>
        new(IPAddress.Parse(address), new AllocationRecord(owner ?? WebSandbox, pod ?? Web, created ?? T0, format));

    private static PodFacts Pod(string uid = "uid-1", bool finished = false, string ns = "default", string name = "web-1") => new(ns, name, uid, finished);

    private static PodView Seen(params PodFacts[] pods) => new(true, true, pods);

    private static readonly IReadOnlySet<Attachment> NoSandbox = new HashSet<Attachment>();
    private static readonly IReadOnlySet<Attachment> WebSandboxUp = new HashSet<Attachment> { WebSandbox };
    private static readonly IReadOnlyDictionary<IPAddress, StaleSighting> Nothing = new Dictionary<IPAddress, StaleSighting>();

    /// <summary>Two passes a grace apart with the same inputs; the second pass's plan.</summary>
    private static ReclaimPlan TwoPasses(IReadOnlyList<Allocation> allocations, PodView pods, IReadOnlySet<Attachment> sandboxes, DateTimeOffset first, TimeSpan apart)
    {
        var one = ReclaimPlanner.Plan(allocations, pods, sandboxes, Nothing, first, Grace);
        Assert.Empty(one.FreeNow);
        return ReclaimPlanner.Plan(allocations, pods, sandboxes, one.Sightings, first + apart, Grace);
    }

    public static TheoryData<string, PodFacts[], bool, StaleReason> StaleCases => new()
    {
        { "no pod of that name", [], true, StaleReason.PodGone },
        { "only pods of other names", [Pod(name: "web-2"), Pod(ns: "other")], true, StaleReason.PodGone },
        { "the name is another pod's", [Pod(uid: "uid-2")], true, StaleReason.OtherUid },
        { "the pod succeeded", [Pod(finished: true)], true, StaleReason.PodFinished },
        { "the pod failed, its sandbox still up", [Pod(finished: true)], true, StaleReason.PodFinished },
        { "the pod runs, its sandbox is gone", [Pod()], false, StaleReason.SandboxGone },
        { "the pod is another pod and no sandbox", [Pod(uid: "uid-2")], false, StaleReason.OtherUid },
    };

    [Theory]
    [MemberData(nameof(StaleCases))]
    public void A_stale_allocation_is_freed_on_the_pass_a_grace_period_after_it_was_first_seen_stale(string why, PodFacts[] pods, bool sandboxUp, StaleReason reason)
    {
        var allocation = Allocated(created: T0);
        var sandboxes = sandboxUp ? WebSandboxUp : NoSandbox;
        var first = ReclaimPlanner.Plan([allocation], Seen(pods), sandboxes, Nothing, T0 + Grace * 5, Grace);
        Assert.Empty(first.FreeNow);
        Assert.Equal(T0 + Grace * 5, first.Sightings[allocation.Address].Since);
        Assert.Equal(T0 + Grace * 6, first.NextDue);

        var tooSoon = ReclaimPlanner.Plan([allocation], Seen(pods), sandboxes, first.Sightings, T0 + Grace * 6 - Tick, Grace);
        Assert.Empty(tooSoon.FreeNow);
        Assert.Equal(first.Sightings[allocation.Address], tooSoon.Sightings[allocation.Address]);

        var second = ReclaimPlanner.Plan([allocation], Seen(pods), sandboxes, tooSoon.Sightings, T0 + Grace * 6, Grace);
        var reclaim = Assert.Single(second.FreeNow);
        Assert.Equal(allocation, reclaim.Allocation);
        Assert.True(reason == reclaim.Reason, why);
        Assert.Empty(second.Sightings);
        Assert.Null(second.NextDue);
    }

    [Fact]
    public void A_single_pass_never_frees_however_old_the_allocation()
    {
        var plan = ReclaimPlanner.Plan([Allocated(created: T0 - TimeSpan.FromDays(365))], Seen(), NoSandbox, Nothing, T0, Grace);
        Assert.Empty(plan.FreeNow);
        Assert.Single(plan.Sightings);
    }

    [Fact]
    public void An_allocation_younger_than_the_grace_period_is_never_freed_whatever_the_sightings_say()
    {
        var created = T0 + TimeSpan.FromMinutes(10);
        var allocation = Allocated(created: created);
        // A sighting from long ago (the address was seen stale, freed by DEL and taken again by the same attachment).
        var old = new Dictionary<IPAddress, StaleSighting> { [allocation.Address] = new(WebSandbox, T0) };
        var young = ReclaimPlanner.Plan([allocation], Seen(), NoSandbox, old, created + Grace - Tick, Grace);
        Assert.Empty(young.FreeNow);
        Assert.Equal(created + Grace, young.NextDue);
        var ofAge = ReclaimPlanner.Plan([allocation], Seen(), NoSandbox, young.Sightings, created + Grace, Grace);
        Assert.Single(ofAge.FreeNow);
    }

    [Fact]
    public void Passes_less_than_a_grace_period_apart_do_not_free_and_keep_the_first_sighting()
    {
        var allocation = Allocated(created: T0);
        var sightings = Nothing;
        var start = T0 + Grace * 2;
        for (var at = start; at < start + Grace; at += TimeSpan.FromSeconds(7))
        {
            var plan = ReclaimPlanner.Plan([allocation], Seen(), NoSandbox, sightings, at, Grace);
            Assert.Empty(plan.FreeNow);
            Assert.Equal(start, plan.Sightings[allocation.Address].Since);
            sightings = plan.Sightings;
        }
        Assert.Single(ReclaimPlanner.Plan([allocation], Seen(), NoSandbox, sightings, start + Grace, Grace).FreeNow);
    }

    [Fact]
    public void A_pass_where_the_allocation_is_not_stale_forgets_the_sighting_and_the_count_starts_again()
    {
        var allocation = Allocated(created: T0);
        var start = T0 + Grace * 2;
        var gone = ReclaimPlanner.Plan([allocation], Seen(), NoSandbox, Nothing, start, Grace);
        var back = ReclaimPlanner.Plan([allocation], Seen(Pod()), WebSandboxUp, gone.Sightings, start + Grace / 2, Grace);
        Assert.Empty(back.FreeNow);
        Assert.Empty(back.Sightings);
        var goneAgain = ReclaimPlanner.Plan([allocation], Seen(), NoSandbox, back.Sightings, start + Grace, Grace);
        Assert.Empty(goneAgain.FreeNow);
        Assert.Equal(start + Grace, goneAgain.Sightings[allocation.Address].Since);
    }

    [Fact]
    public void A_sighting_of_another_owner_of_the_same_address_does_not_count()
    {
        var allocation = Allocated(created: T0);
        var other = new Dictionary<IPAddress, StaleSighting> { [allocation.Address] = new(new Attachment("sandbox-0", "eth0"), T0) };
        var plan = ReclaimPlanner.Plan([allocation], Seen(), NoSandbox, other, T0 + Grace * 3, Grace);
        Assert.Empty(plan.FreeNow);
        Assert.Equal(T0 + Grace * 3, plan.Sightings[allocation.Address].Since);
    }

    [Fact]
    public void A_sighting_from_the_future_after_the_clock_stepped_back_starts_over()
    {
        var allocation = Allocated(created: T0);
        var future = new Dictionary<IPAddress, StaleSighting> { [allocation.Address] = new(WebSandbox, T0 + TimeSpan.FromDays(1)) };
        var plan = ReclaimPlanner.Plan([allocation], Seen(), NoSandbox, future, T0 + Grace * 3, Grace);
        Assert.Empty(plan.FreeNow);
        Assert.Equal(T0 + Grace * 3, plan.Sightings[allocation.Address].Since);
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(false, false)]
    public void Nothing_is_freed_while_the_pods_cannot_be_seen_and_the_sightings_stay_as_they_were(bool synced, bool reachable)
    {
        var allocation = Allocated(created: T0);
        var first = ReclaimPlanner.Plan([allocation], Seen(), NoSandbox, Nothing, T0 + Grace, Grace);
        // Blind, the pod list is empty: as if every pod were gone.
        var blind = ReclaimPlanner.Plan([allocation], new PodView(synced, reachable, []), NoSandbox, first.Sightings, T0 + Grace * 10, Grace);
        Assert.Empty(blind.FreeNow);
        Assert.Equal(first.Sightings, blind.Sightings);
        Assert.Null(blind.NextDue);
        // Seeing again, the earlier sighting still counts.
        Assert.Single(ReclaimPlanner.Plan([allocation], Seen(), NoSandbox, blind.Sightings, T0 + Grace * 10, Grace).FreeNow);
    }

    [Fact]
    public void A_pod_that_runs_with_its_sandbox_up_keeps_its_allocation_forever()
    {
        var plan = ReclaimPlanner.Plan([Allocated(created: T0)], Seen(Pod()), WebSandboxUp, Nothing, T0 + TimeSpan.FromDays(30), Grace);
        Assert.Empty(plan.FreeNow);
        Assert.Empty(plan.Sightings);
        Assert.Null(plan.NextDue);
    }

    [Fact]
    public void A_pod_that_exists_without_an_address_yet_keeps_the_allocation_of_its_sandbox_however_long_it_takes()
    {
        // Pending, no podIP: the ADD happened and the kubelet has not reported it yet (calico#5044).
        var allocation = Allocated(created: T0);
        var sightings = Nothing;
        for (var at = T0; at <= T0 + Grace * 10; at += Grace / 2)
        {
            var plan = ReclaimPlanner.Plan([allocation], Seen(Pod()), WebSandboxUp, sightings, at, Grace);
            Assert.Empty(plan.FreeNow);
            Assert.Empty(plan.Sightings);
            sightings = plan.Sightings;
        }
    }

    [Fact]
    public void A_pod_recreated_in_a_new_sandbox_frees_only_the_old_sandboxs_allocation()
    {
        // After a reboot: the pod (same UID) got a new sandbox and address; the old sandbox's veth went with the power.
        var old = Allocated("10.244.1.2", owner: new Attachment("sandbox-0", "eth0"), created: T0);
        var current = Allocated("10.244.1.3", owner: WebSandbox, created: T0 + Grace * 2);
        var plan = TwoPasses([old, current], Seen(Pod()), WebSandboxUp, T0 + Grace * 2, Grace);
        Assert.Equal(old, Assert.Single(plan.FreeNow).Allocation);
        Assert.Equal(StaleReason.SandboxGone, plan.FreeNow[0].Reason);
    }

    [Fact]
    public void A_pod_listed_twice_counts_as_alive_if_either_entry_says_so()
    {
        var allocation = Allocated(created: T0);
        var mixed = Seen(Pod(finished: true), Pod());
        Assert.Empty(TwoPasses([allocation], mixed, WebSandboxUp, T0 + Grace, Grace).FreeNow);
        var renamed = Seen(Pod(uid: "uid-2"), Pod());
        Assert.Empty(TwoPasses([allocation], renamed, WebSandboxUp, T0 + Grace, Grace).FreeNow);
    }

    public static TheoryData<string, Allocation> WithoutIdentity => new()
    {
        { "no pod at all (another runtime)", new Allocation(IPAddress.Parse("10.244.1.2"), new AllocationRecord(WebSandbox, null, T0)) },
        { "no UID", Allocated(pod: new PodIdentity("default", "web-1", null)) },
        { "no namespace", Allocated(pod: new PodIdentity(null, "web-1", "uid-1")) },
        { "no name", Allocated(pod: new PodIdentity("default", null, "uid-1")) },
        { "format 0 (no pod, the file's time)", new Allocation(IPAddress.Parse("10.244.1.2"), new AllocationRecord(WebSandbox, null, T0, AllocationRecordFormat.Legacy)) },
        { "an unreadable file", new Allocation(IPAddress.Parse("10.244.1.2"), null) },
    };

    [Theory]
    [MemberData(nameof(WithoutIdentity))]
    public void An_allocation_without_a_whole_pod_identity_is_never_freed(string why, Allocation allocation)
    {
        var plan = TwoPasses([allocation], Seen(), NoSandbox, T0 + Grace * 100, Grace * 50);
        Assert.True(plan.FreeNow.Count == 0, why);
        Assert.Empty(plan.Sightings);
    }

    [Fact]
    public void An_allocation_without_a_time_is_never_old_enough()
    {
        var allocation = new Allocation(IPAddress.Parse("10.244.1.2"), new AllocationRecord(WebSandbox, Web, null));
        var plan = TwoPasses([allocation], Seen(), NoSandbox, T0, TimeSpan.FromDays(3650));
        Assert.Empty(plan.FreeNow);
        Assert.Null(plan.NextDue);
    }

    [Fact]
    public void Each_allocation_is_decided_on_its_own_and_the_next_pass_is_due_at_the_earliest()
    {
        var gone = Allocated("10.244.1.2", pod: new PodIdentity("default", "gone", "uid-g"), owner: new Attachment("s-gone", "eth0"), created: T0);
        var young = Allocated("10.244.1.3", pod: new PodIdentity("default", "young", "uid-y"), owner: new Attachment("s-young", "eth0"), created: T0 + Grace * 3);
        var alive = Allocated("10.244.1.4", created: T0);
        var foreign = new Allocation(IPAddress.Parse("10.244.1.5"), new AllocationRecord(new Attachment("other", "eth0"), null, T0));
        var all = new[] { gone, young, alive, foreign };

        var first = ReclaimPlanner.Plan(all, Seen(Pod()), WebSandboxUp, Nothing, T0 + Grace * 3, Grace);
        Assert.Empty(first.FreeNow);
        Assert.Equal([gone.Address, young.Address], first.Sightings.Keys.Order(new AddressOrder()));
        Assert.Equal(T0 + Grace * 4, first.NextDue);

        var second = ReclaimPlanner.Plan(all, Seen(Pod()), WebSandboxUp, first.Sightings, T0 + Grace * 4, Grace);
        Assert.Equal([gone.Address, young.Address], second.FreeNow.Select(r => r.Allocation.Address));
        Assert.All(second.FreeNow, r => Assert.Equal(StaleReason.PodGone, r.Reason));
    }

    [Theory]
    [InlineData("Succeeded", true)]
    [InlineData("Failed", true)]
    [InlineData("Running", false)]
    [InlineData("Pending", false)]
    [InlineData("Unknown", false)]
    [InlineData(null, false)]
    public void A_pod_has_finished_when_its_phase_says_Succeeded_or_Failed(string? phase, bool finished)
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { NamespaceProperty = "default", Name = "web-1", Uid = "uid-1" },
            Status = phase is null ? null : new V1PodStatus { Phase = phase },
        };
        Assert.Equal(new PodFacts("default", "web-1", "uid-1", finished), PodFacts.From(pod));
    }

    [Fact]
    public void A_reclaim_says_which_address_which_pod_and_why()
    {
        var text = new Reclaim(Allocated(), StaleReason.OtherUid).Describe();
        Assert.Equal("10.244.1.2 of pod default/web-1 (uid uid-1) (container sandbox-1 interface eth0): the pod of that name is another pod", text);
    }

    private sealed class AddressOrder : IComparer<IPAddress>
    {
        public int Compare(IPAddress? x, IPAddress? y) => string.CompareOrdinal(x?.ToString(), y?.ToString());
    }
}
