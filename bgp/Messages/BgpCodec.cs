using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Trellis.Addressing;

namespace Trellis.Bgp.Messages;

/// <summary>What a session negotiated that changes how its messages are laid out.</summary>
/// <param name="FourOctetAs">Both sides sent the four-octet AS capability (RFC 6793): AS_PATH numbers take four octets.</param>
public readonly record struct CodecOptions(bool FourOctetAs)
{
    public static readonly CodecOptions FourOctet = new(true);
    public static readonly CodecOptions TwoOctet = new(false);
}

/// <summary>
/// Encodes and decodes BGP messages (RFC 4271 §4, RFC 4760, RFC 5492, RFC 6793, RFC 4724,
/// RFC 2918). Decoding trusts no length field: every lie is answered by the NOTIFICATION of
/// RFC 4271 §6 (or, for attribute contents, RFC 7606's treat-as-withdraw).
/// </summary>
public static class BgpCodec
{
    public const int HeaderLength = 19;
    public const int MaxMessageLength = 4096;
    private const int MarkerLength = 16;

    /// <summary>
    /// The length of the message whose header starts <paramref name="buffer"/>, or 0 while fewer
    /// than <see cref="HeaderLength"/> octets have arrived. A header that cannot be right throws.
    /// </summary>
    public static int FrameLength(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length < HeaderLength) return 0;
        if (buffer[..MarkerLength].ContainsAnyExcept((byte)0xFF))
            throw Malformed(NotificationMessage.MessageHeaderError, 1, [], "the marker is not sixteen octets of ones");
        ushort length = BinaryPrimitives.ReadUInt16BigEndian(buffer[MarkerLength..]);
        byte type = buffer[18];
        int minimum = (MessageType)type switch
        {
            MessageType.Open => HeaderLength + 10,
            MessageType.Update => HeaderLength + 4,
            MessageType.Notification => HeaderLength + 2,
            MessageType.RouteRefresh => HeaderLength + 4,
            _ => HeaderLength,
        };
        bool fits = length >= minimum && length <= MaxMessageLength && ((MessageType)type != MessageType.Keepalive || length == HeaderLength);
        if (!fits)
            throw new MalformedMessageException(
                NotificationMessage.WithUInt16(NotificationMessage.MessageHeaderError, 2, length),
                $"message length {length} is impossible for a {TypeName(type)} message");
        if (type is < (byte)MessageType.Open or > (byte)MessageType.RouteRefresh)
            throw Malformed(NotificationMessage.MessageHeaderError, 3, [type], $"message type {type} is unknown");
        return length;
    }

    /// <summary>Decodes one whole message (header included), as framed by <see cref="FrameLength"/>.</summary>
    public static BgpMessage Decode(ReadOnlySpan<byte> message, CodecOptions options)
    {
        int length = FrameLength(message);
        if (length != message.Length)
            throw new ArgumentException($"the span holds {message.Length} octets, the header says {length}", nameof(message));
        var body = message[HeaderLength..];
        return (MessageType)message[18] switch
        {
            MessageType.Open => DecodeOpen(body),
            MessageType.Update => DecodeUpdate(body, options),
            MessageType.Notification => new NotificationMessage(body[0], body[1], body[2..].ToArray()),
            MessageType.Keepalive => KeepaliveMessage.Instance,
            _ => DecodeRouteRefresh(body),
        };
    }

    public static byte[] Encode(BgpMessage message, CodecOptions options)
    {
        var writer = new MessageWriter();
        writer.Bytes(stackalloc byte[MarkerLength] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF });
        int lengthAt = writer.Reserve16();
        writer.Byte((byte)message.Type);
        switch (message)
        {
            case OpenMessage open: EncodeOpen(writer, open); break;
            case UpdateMessage update: EncodeUpdate(writer, update, options); break;
            case NotificationMessage notification:
                writer.Byte(notification.Code);
                writer.Byte(notification.Subcode);
                writer.Bytes(notification.Data);
                break;
            case KeepaliveMessage: break;
            case RouteRefreshMessage refresh:
                writer.UInt16(refresh.Family.Afi);
                writer.Byte(refresh.Subtype);
                writer.Byte(refresh.Family.Safi);
                break;
            default: throw new ArgumentException($"cannot encode {message.GetType().Name}", nameof(message));
        }
        if (writer.Length > MaxMessageLength)
            throw new InvalidOperationException($"a {TypeName((byte)message.Type)} message of {writer.Length} octets exceeds {MaxMessageLength}");
        writer.Patch16(lengthAt, (ushort)writer.Length);
        return writer.ToArray();
    }

    /// <summary>The octets a prefix takes in NLRI: one for its length, then just enough for its bits.</summary>
    public static int PrefixSize(Cidr prefix) => 1 + (prefix.PrefixLength + 7) / 8;

    // ---- OPEN ----

    private static OpenMessage DecodeOpen(ReadOnlySpan<byte> body)
    {
        if (body[0] != 4)
            throw new MalformedMessageException(NotificationMessage.WithUInt16(NotificationMessage.OpenMessageError, 1, 4),
                $"BGP version {body[0]} is not 4");
        ushort myAs = BinaryPrimitives.ReadUInt16BigEndian(body[1..]);
        ushort holdTime = BinaryPrimitives.ReadUInt16BigEndian(body[3..]);
        var routerId = new IPAddress(body.Slice(5, 4));
        int declared = body[9];
        var parameters = body[10..];
        bool extended = declared == 255 && parameters.Length > 0 && parameters[0] == 255;
        if (extended)
        {
            // RFC 9072: a non-extended type 255 announces a two-octet length, and two-octet parameter lengths.
            if (parameters.Length < 3 || BinaryPrimitives.ReadUInt16BigEndian(parameters[1..]) != parameters.Length - 3)
                throw OpenMalformed($"the extended optional parameters length does not match the {Math.Max(0, parameters.Length - 3)} octets that follow");
            parameters = parameters[3..];
        }
        else if (declared != parameters.Length)
            throw OpenMalformed($"optional parameters length {declared} does not match the {parameters.Length} octets that follow");

        var capabilities = new List<Capability>();
        int headerSize = extended ? 3 : 2, parameterCount = 0;
        while (parameters.Length > 0)
        {
            if (parameters.Length < headerSize) throw OpenMalformed("an optional parameter is cut short");
            byte type = parameters[0];
            int length = extended ? BinaryPrimitives.ReadUInt16BigEndian(parameters[1..]) : parameters[1];
            if (length > parameters.Length - headerSize)
                throw OpenMalformed($"optional parameter {type} claims {length} octets, {parameters.Length - headerSize} remain");
            var value = parameters.Slice(headerSize, length);
            if (type != 2)
                throw Malformed(NotificationMessage.OpenMessageError, 4, [type], $"optional parameter type {type} is not capabilities (2)");
            DecodeCapabilities(value, capabilities);
            parameters = parameters[(headerSize + length)..];
            parameterCount++;
        }
        var layout = parameterCount > 1 && parameterCount == capabilities.Count ? CapabilityLayout.ParameterEach : CapabilityLayout.OneParameter;
        return new OpenMessage(myAs, holdTime, routerId, capabilities, body[0]) { Layout = layout };
    }

    private static void DecodeCapabilities(ReadOnlySpan<byte> data, List<Capability> into)
    {
        while (data.Length > 0)
        {
            if (data.Length < 2) throw OpenMalformed("a capability is cut short");
            byte code = data[0];
            int length = data[1];
            if (length > data.Length - 2)
                throw OpenMalformed($"capability {code} claims {length} octets, {data.Length - 2} remain");
            into.Add(DecodeCapability(code, data.Slice(2, length)));
            data = data[(2 + length)..];
        }
    }

    private static Capability DecodeCapability(byte code, ReadOnlySpan<byte> value)
    {
        switch (code)
        {
            case Capability.CodeMultiprotocol:
                if (value.Length != 4) throw OpenMalformed($"the multiprotocol capability has {value.Length} octets, not 4");
                return new MultiprotocolCapability(new AfiSafi(BinaryPrimitives.ReadUInt16BigEndian(value), value[3]));
            case Capability.CodeRouteRefresh:
                if (value.Length != 0) throw OpenMalformed($"the route refresh capability has {value.Length} octets, not 0");
                return new RouteRefreshCapability();
            case Capability.CodeFourOctetAs:
                if (value.Length != 4) throw OpenMalformed($"the four-octet AS capability has {value.Length} octets, not 4");
                return new FourOctetAsCapability(BinaryPrimitives.ReadUInt32BigEndian(value));
            case Capability.CodeGracefulRestart:
                if (value.Length < 2 || (value.Length - 2) % 4 != 0)
                    throw OpenMalformed($"the graceful restart capability has {value.Length} octets, not 2 + 4 per family");
                var families = new List<GracefulRestartFamily>();
                for (int at = 2; at < value.Length; at += 4)
                    families.Add(new GracefulRestartFamily(
                        new AfiSafi(BinaryPrimitives.ReadUInt16BigEndian(value[at..]), value[at + 2]), value[at + 3]));
                ushort head = BinaryPrimitives.ReadUInt16BigEndian(value);
                return new GracefulRestartCapability((byte)(head >> 12), (ushort)(head & GracefulRestartCapability.MaxRestartTimeSeconds), families);
            default:
                return new UnknownCapability(code, value.ToArray());
        }
    }

    private static void EncodeOpen(MessageWriter writer, OpenMessage open)
    {
        writer.Byte(open.Version);
        writer.UInt16(open.MyAs);
        writer.UInt16(open.HoldTimeSeconds);
        writer.Bytes(open.RouterId.GetAddressBytes());
        var parameters = new MessageWriter();
        int parameterAt = -1;
        foreach (var capability in open.Capabilities)
        {
            if (parameterAt < 0 || open.Layout == CapabilityLayout.ParameterEach)
            {
                if (parameterAt >= 0) parameters.Patch8(parameterAt, parameters.Length - parameterAt - 1, "a capabilities parameter");
                parameters.Byte(2);
                parameterAt = parameters.Reserve8();
            }
            parameters.Byte(capability.Code);
            int lengthAt = parameters.Reserve8();
            EncodeCapabilityValue(parameters, capability);
            parameters.Patch8(lengthAt, parameters.Length - lengthAt - 1, $"capability {capability.Code}");
        }
        if (parameterAt >= 0) parameters.Patch8(parameterAt, parameters.Length - parameterAt - 1, "a capabilities parameter");
        writer.Byte(parameters.Length <= 255 ? (byte)parameters.Length
            : throw new InvalidOperationException($"{parameters.Length} octets of optional parameters exceed 255"));
        writer.Bytes(parameters.AsSpan());
    }

    private static void EncodeCapabilityValue(MessageWriter writer, Capability capability)
    {
        switch (capability)
        {
            case MultiprotocolCapability mp:
                writer.UInt16(mp.Family.Afi);
                writer.Byte(0);
                writer.Byte(mp.Family.Safi);
                break;
            case RouteRefreshCapability: break;
            case FourOctetAsCapability four: writer.UInt32(four.Asn); break;
            case GracefulRestartCapability gr:
                if (gr.RestartTimeSeconds > GracefulRestartCapability.MaxRestartTimeSeconds)
                    throw new ArgumentOutOfRangeException(nameof(capability), $"restart time {gr.RestartTimeSeconds} s exceeds {GracefulRestartCapability.MaxRestartTimeSeconds}");
                writer.UInt16((ushort)((gr.Flags & 0xF) << 12 | gr.RestartTimeSeconds));
                foreach (var family in gr.Families)
                {
                    writer.UInt16(family.Family.Afi);
                    writer.Byte(family.Family.Safi);
                    writer.Byte(family.Flags);
                }
                break;
            case UnknownCapability unknown: writer.Bytes(unknown.Value); break;
            default: throw new ArgumentException($"cannot encode capability {capability.GetType().Name}", nameof(capability));
        }
    }

    // ---- UPDATE ----

    private static UpdateMessage DecodeUpdate(ReadOnlySpan<byte> body, CodecOptions options)
    {
        int withdrawnLength = BinaryPrimitives.ReadUInt16BigEndian(body);
        if (withdrawnLength > body.Length - 4)
            throw UpdateMalformed(1, [], $"withdrawn routes length {withdrawnLength} overruns the {body.Length - 4} octets left for routes and attributes");
        var withdrawn = DecodePrefixes(body.Slice(2, withdrawnLength), AddressFamily.InterNetwork, 10, "withdrawn routes");
        var rest = body[(2 + withdrawnLength)..];
        int attributesLength = BinaryPrimitives.ReadUInt16BigEndian(rest);
        if (attributesLength > rest.Length - 2)
            throw UpdateMalformed(1, [], $"total path attribute length {attributesLength} overruns the {rest.Length - 2} octets that follow");
        var attributeData = rest.Slice(2, attributesLength);
        var nlriData = rest[(2 + attributesLength)..];

        var attributes = new List<PathAttribute>();
        MalformedMessageException? treatAsWithdraw = null;
        var seen = new HashSet<byte>();
        while (attributeData.Length > 0)
        {
            if (attributeData.Length < 3)
                throw UpdateMalformed(1, [], $"a path attribute header is cut short ({attributeData.Length} octets left)");
            byte flags = attributeData[0], code = attributeData[1];
            bool extendedLength = (flags & PathAttribute.ExtendedLengthBit) != 0;
            int headerSize = extendedLength ? 4 : 3;
            if (attributeData.Length < headerSize)
                throw UpdateMalformed(1, [], $"the header of path attribute {code} is cut short");
            int length = extendedLength ? BinaryPrimitives.ReadUInt16BigEndian(attributeData[2..]) : attributeData[2];
            if (length > attributeData.Length - headerSize)
                throw UpdateMalformed(1, [], $"path attribute {code} claims {length} octets, {attributeData.Length - headerSize} remain in the attribute list");
            var whole = attributeData[..(headerSize + length)];
            var value = whole[headerSize..];
            attributeData = attributeData[(headerSize + length)..];

            bool multiprotocol = code is PathAttribute.CodeMpReachNlri or PathAttribute.CodeMpUnreachNlri;
            if (!seen.Add(code))
            {
                // RFC 7606 §3.g: repeated MP_* cannot be reconciled; any other repeat is dropped.
                if (multiprotocol) throw UpdateMalformed(1, [], $"path attribute {code} appears twice");
                continue;
            }
            try
            {
                attributes.Add(DecodeAttribute(flags, code, value, whole, options));
            }
            catch (MalformedMessageException error) when (!multiprotocol)
            {
                treatAsWithdraw ??= error;
                attributes.Add(new RawAttribute(flags, code, value.ToArray()));
            }
        }

        // RFC 4271 §6.3: the attributes are checked before the NLRI.
        var nlri = DecodePrefixes(nlriData, AddressFamily.InterNetwork, 10, "NLRI");
        bool announces = nlri.Count > 0 || attributes.Any(a => a is MpReachNlriAttribute);
        if (announces && treatAsWithdraw is null)
        {
            var required = new List<byte> { PathAttribute.CodeOrigin, PathAttribute.CodeAsPath };
            if (nlri.Count > 0) required.Add(PathAttribute.CodeNextHop);
            foreach (var code in required)
                if (!seen.Contains(code))
                {
                    treatAsWithdraw = Malformed(NotificationMessage.UpdateMessageError, 3, [code], $"well-known attribute {AttributeName(code)} is missing");
                    break;
                }
        }
        return new UpdateMessage(withdrawn, attributes, nlri) { TreatAsWithdraw = treatAsWithdraw };
    }

    private static PathAttribute DecodeAttribute(byte flags, byte code, ReadOnlySpan<byte> value, ReadOnlySpan<byte> whole, CodecOptions options)
    {
        const byte kind = PathAttribute.OptionalBit | PathAttribute.TransitiveBit;
        switch (code)
        {
            case PathAttribute.CodeOrigin:
                CheckFlags(flags, PathAttribute.WellKnown, code, whole);
                CheckLength(value, 1, code, whole);
                if (value[0] > (byte)Origin.Incomplete)
                    throw Malformed(NotificationMessage.UpdateMessageError, 6, whole, $"ORIGIN {value[0]} is not IGP, EGP or INCOMPLETE");
                return new OriginAttribute((Origin)value[0], flags);
            case PathAttribute.CodeAsPath:
                CheckFlags(flags, PathAttribute.WellKnown, code, whole);
                return new AsPathAttribute(DecodeAsPath(value, options.FourOctetAs ? 4 : 2), flags);
            case PathAttribute.CodeNextHop:
                CheckFlags(flags, PathAttribute.WellKnown, code, whole);
                CheckLength(value, 4, code, whole);
                return new NextHopAttribute(new IPAddress(value), flags);
            case PathAttribute.CodeMultiExitDisc:
                CheckFlags(flags, PathAttribute.OptionalBit, code, whole);
                CheckLength(value, 4, code, whole);
                return new MultiExitDiscAttribute(BinaryPrimitives.ReadUInt32BigEndian(value), flags);
            case PathAttribute.CodeLocalPref:
                CheckFlags(flags, PathAttribute.WellKnown, code, whole);
                CheckLength(value, 4, code, whole);
                return new LocalPrefAttribute(BinaryPrimitives.ReadUInt32BigEndian(value), flags);
            case PathAttribute.CodeMpReachNlri:
                if ((flags & kind) != PathAttribute.OptionalBit) throw FlagsError(code, whole);
                return DecodeMpReach(flags, value, whole);
            case PathAttribute.CodeMpUnreachNlri:
                if ((flags & kind) != PathAttribute.OptionalBit) throw FlagsError(code, whole);
                return DecodeMpUnreach(flags, value, whole);
            default:
                // RFC 4271 §6.3: a well-known attribute this speaker does not know.
                if ((flags & PathAttribute.OptionalBit) == 0 && code is not (6 or 7))
                    throw Malformed(NotificationMessage.UpdateMessageError, 2, whole, $"well-known attribute {code} is not recognised");
                return new RawAttribute(flags, code, value.ToArray());
        }
    }

    private static List<AsPathSegment> DecodeAsPath(ReadOnlySpan<byte> value, int asSize)
    {
        var segments = new List<AsPathSegment>();
        while (value.Length > 0)
        {
            if (value.Length < 2)
                throw Malformed(NotificationMessage.UpdateMessageError, 11, [], "an AS_PATH segment header is cut short");
            byte type = value[0];
            int count = value[1];
            if (type is < (byte)AsPathSegmentType.AsSet or > (byte)AsPathSegmentType.ConfedSet)
                throw Malformed(NotificationMessage.UpdateMessageError, 11, [], $"AS_PATH segment type {type} is unknown");
            if (count == 0)
                throw Malformed(NotificationMessage.UpdateMessageError, 11, [], "an AS_PATH segment holds no AS");
            if (count * asSize > value.Length - 2)
                throw Malformed(NotificationMessage.UpdateMessageError, 11, [],
                    $"an AS_PATH segment claims {count} AS numbers of {asSize} octets, {value.Length - 2} octets remain");
            var asns = new uint[count];
            for (int i = 0; i < count; i++)
                asns[i] = asSize == 4 ? BinaryPrimitives.ReadUInt32BigEndian(value[(2 + 4 * i)..]) : BinaryPrimitives.ReadUInt16BigEndian(value[(2 + 2 * i)..]);
            segments.Add(new AsPathSegment((AsPathSegmentType)type, asns));
            value = value[(2 + count * asSize)..];
        }
        return segments;
    }

    private static PathAttribute DecodeMpReach(byte flags, ReadOnlySpan<byte> value, ReadOnlySpan<byte> whole)
    {
        if (value.Length < 5) throw OptionalAttributeError(whole, $"MP_REACH_NLRI has {value.Length} octets, fewer than 5");
        var family = new AfiSafi(BinaryPrimitives.ReadUInt16BigEndian(value), value[2]);
        int nextHopLength = value[3];
        if (nextHopLength > value.Length - 5)
            throw OptionalAttributeError(whole, $"MP_REACH_NLRI next hop length {nextHopLength} overruns the attribute's {value.Length - 5} remaining octets");
        if (!family.IsUnicastIP) return new RawAttribute(flags, PathAttribute.CodeMpReachNlri, value.ToArray());
        var nextHopData = value.Slice(4, nextHopLength);
        var nextHops = new List<IPAddress>();
        int size = family.Afi == AfiSafi.AfiIPv4 ? 4 : 16;
        if (nextHopLength != size && nextHopLength != 2 * size)
            throw OptionalAttributeError(whole, $"an {family} next hop of {nextHopLength} octets is neither {size} nor {2 * size}");
        for (int at = 0; at < nextHopLength; at += size) nextHops.Add(new IPAddress(nextHopData.Slice(at, size)));
        // The octet after the next hop is reserved (it once counted SNPAs); RFC 4760 says ignore it.
        var nlri = DecodePrefixes(value[(5 + nextHopLength)..], family.AddressFamily, 9, $"MP_REACH_NLRI {family} NLRI", whole);
        return new MpReachNlriAttribute(family, nextHops, nlri, flags);
    }

    private static PathAttribute DecodeMpUnreach(byte flags, ReadOnlySpan<byte> value, ReadOnlySpan<byte> whole)
    {
        if (value.Length < 3) throw OptionalAttributeError(whole, $"MP_UNREACH_NLRI has {value.Length} octets, fewer than 3");
        var family = new AfiSafi(BinaryPrimitives.ReadUInt16BigEndian(value), value[2]);
        if (!family.IsUnicastIP) return new RawAttribute(flags, PathAttribute.CodeMpUnreachNlri, value.ToArray());
        var withdrawn = DecodePrefixes(value[3..], family.AddressFamily, 9, $"MP_UNREACH_NLRI {family} withdrawn routes", whole);
        return new MpUnreachNlriAttribute(family, withdrawn, flags);
    }

    private static List<Cidr> DecodePrefixes(ReadOnlySpan<byte> data, AddressFamily family, byte subcode, string field, ReadOnlySpan<byte> errorData = default)
    {
        var prefixes = new List<Cidr>();
        int bits = family == AddressFamily.InterNetwork ? 32 : 128;
        Span<byte> address = stackalloc byte[bits / 8];
        while (data.Length > 0)
        {
            int length = data[0];
            if (length > bits)
                throw Malformed(NotificationMessage.UpdateMessageError, subcode, errorData, $"{field}: prefix length {length} exceeds {bits}");
            int octets = (length + 7) / 8;
            if (octets > data.Length - 1)
                throw Malformed(NotificationMessage.UpdateMessageError, subcode, errorData,
                    $"{field}: a /{length} prefix needs {octets} octets, {data.Length - 1} remain");
            address.Clear();
            data.Slice(1, octets).CopyTo(address);
            // Bits past the prefix length are padding (RFC 4271 §4.3) and are ignored.
            prefixes.Add(Cidr.Containing(new IPAddress(address), length));
            data = data[(1 + octets)..];
        }
        return prefixes;
    }

    private static void EncodeUpdate(MessageWriter writer, UpdateMessage update, CodecOptions options)
    {
        int withdrawnAt = writer.Reserve16();
        foreach (var prefix in update.Withdrawn) EncodePrefix(writer, prefix);
        writer.Patch16(withdrawnAt, (ushort)(writer.Length - withdrawnAt - 2));
        int attributesAt = writer.Reserve16();
        foreach (var attribute in update.Attributes) EncodeAttribute(writer, attribute, options);
        writer.Patch16(attributesAt, (ushort)(writer.Length - attributesAt - 2));
        foreach (var prefix in update.Nlri) EncodePrefix(writer, prefix);
    }

    private static void EncodeAttribute(MessageWriter writer, PathAttribute attribute, CodecOptions options)
    {
        var value = new MessageWriter();
        switch (attribute)
        {
            case OriginAttribute origin: value.Byte((byte)origin.Origin); break;
            case AsPathAttribute path:
                foreach (var segment in path.Segments)
                {
                    if (segment.Asns.Count is 0 or > 255) throw new ArgumentException($"an AS_PATH segment holds {segment.Asns.Count} AS numbers", nameof(attribute));
                    value.Byte((byte)segment.Type);
                    value.Byte((byte)segment.Asns.Count);
                    foreach (var asn in segment.Asns)
                    {
                        if (options.FourOctetAs) value.UInt32(asn);
                        else value.UInt16(asn <= ushort.MaxValue ? (ushort)asn : OpenMessage.AsTrans);
                    }
                }
                break;
            case NextHopAttribute nextHop: value.Bytes(nextHop.NextHop.GetAddressBytes()); break;
            case MultiExitDiscAttribute med: value.UInt32(med.Value); break;
            case LocalPrefAttribute localPref: value.UInt32(localPref.Value); break;
            case MpReachNlriAttribute reach:
                value.UInt16(reach.Family.Afi);
                value.Byte(reach.Family.Safi);
                int nextHopAt = value.Reserve8();
                foreach (var nextHop in reach.NextHops) value.Bytes(nextHop.GetAddressBytes());
                value.Patch8(nextHopAt, value.Length - nextHopAt - 1, "MP_REACH_NLRI next hop");
                value.Byte(0);
                foreach (var prefix in reach.Nlri) EncodePrefix(value, prefix);
                break;
            case MpUnreachNlriAttribute unreach:
                value.UInt16(unreach.Family.Afi);
                value.Byte(unreach.Family.Safi);
                foreach (var prefix in unreach.Withdrawn) EncodePrefix(value, prefix);
                break;
            case RawAttribute raw: value.Bytes(raw.Value); break;
            default: throw new ArgumentException($"cannot encode attribute {attribute.GetType().Name}", nameof(attribute));
        }
        byte flags = attribute.Flags;
        if (value.Length > 255) flags |= PathAttribute.ExtendedLengthBit;
        writer.Byte(flags);
        writer.Byte(attribute.TypeCode);
        if ((flags & PathAttribute.ExtendedLengthBit) != 0) writer.UInt16((ushort)value.Length);
        else writer.Byte((byte)value.Length);
        writer.Bytes(value.AsSpan());
    }

    private static void EncodePrefix(MessageWriter writer, Cidr prefix)
    {
        writer.Byte((byte)prefix.PrefixLength);
        writer.Bytes(prefix.Network.GetAddressBytes().AsSpan(0, (prefix.PrefixLength + 7) / 8));
    }

    // ---- ROUTE-REFRESH ----

    private static RouteRefreshMessage DecodeRouteRefresh(ReadOnlySpan<byte> body)
    {
        if (body.Length != 4)
        {
            // RFC 7313 §5 for its begin/end markers; a plain request of the wrong size is a bad header length.
            if (body[2] is 1 or 2)
                throw Malformed(NotificationMessage.RouteRefreshMessageError, 1, body, $"ROUTE-REFRESH of {body.Length + HeaderLength} octets, not 23");
            throw new MalformedMessageException(
                NotificationMessage.WithUInt16(NotificationMessage.MessageHeaderError, 2, (ushort)(body.Length + HeaderLength)),
                $"ROUTE-REFRESH of {body.Length + HeaderLength} octets, not 23");
        }
        return new RouteRefreshMessage(new AfiSafi(BinaryPrimitives.ReadUInt16BigEndian(body), body[3]), body[2]);
    }

    // ---- errors ----

    private static void CheckFlags(byte flags, byte expected, byte code, ReadOnlySpan<byte> whole)
    {
        if ((flags & (PathAttribute.OptionalBit | PathAttribute.TransitiveBit)) != expected) throw FlagsError(code, whole);
    }

    private static void CheckLength(ReadOnlySpan<byte> value, int expected, byte code, ReadOnlySpan<byte> whole)
    {
        if (value.Length != expected)
            throw Malformed(NotificationMessage.UpdateMessageError, 5, whole, $"{AttributeName(code)} has {value.Length} octets, not {expected}");
    }

    private static MalformedMessageException FlagsError(byte code, ReadOnlySpan<byte> whole) =>
        Malformed(NotificationMessage.UpdateMessageError, 4, whole, $"{AttributeName(code)} has wrong attribute flags 0x{whole[0]:x2}");

    private static MalformedMessageException OptionalAttributeError(ReadOnlySpan<byte> whole, string description) =>
        Malformed(NotificationMessage.UpdateMessageError, 9, whole, description);

    private static MalformedMessageException UpdateMalformed(byte subcode, ReadOnlySpan<byte> data, string description) =>
        Malformed(NotificationMessage.UpdateMessageError, subcode, data, description);

    private static MalformedMessageException OpenMalformed(string description) =>
        Malformed(NotificationMessage.OpenMessageError, 0, [], description);

    private static MalformedMessageException Malformed(byte code, byte subcode, ReadOnlySpan<byte> data, string description) =>
        new(NotificationMessage.Create(code, subcode, data), description);

    private static string AttributeName(byte code) => code switch
    {
        PathAttribute.CodeOrigin => "ORIGIN",
        PathAttribute.CodeAsPath => "AS_PATH",
        PathAttribute.CodeNextHop => "NEXT_HOP",
        PathAttribute.CodeMultiExitDisc => "MULTI_EXIT_DISC",
        PathAttribute.CodeLocalPref => "LOCAL_PREF",
        _ => $"attribute {code}",
    };

    private static string TypeName(byte type) => (MessageType)type switch
    {
        MessageType.Open => "OPEN",
        MessageType.Update => "UPDATE",
        MessageType.Notification => "NOTIFICATION",
        MessageType.Keepalive => "KEEPALIVE",
        MessageType.RouteRefresh => "ROUTE-REFRESH",
        _ => $"type {type}",
    };
}
