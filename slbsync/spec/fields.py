"""The spec's shape: every field, its type, range, default and meaning.

One table drives the loader (``build.py``), the JSON Schema (``schema.py``)
and the reference in ``docs/spec.md``, so they cannot disagree. Defaults are
read from the model's dataclasses, never repeated here, so a field left out
of a spec gets exactly the value a target fills into live state.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from slbsync.spec import model
from slbsync.targets.registry import known_target_types


class Kind(StrEnum):
    TEXT = "text"
    INT = "int"
    BOOL = "bool"
    DURATION = "duration"  # 300s, 5m, 1h or an int of seconds
    DURATION_OR_OFF = "duration_or_off"  # a duration, or off/false for None
    ENUM = "enum"
    TAGS = "tags"  # a map of text to text, kept as sorted pairs
    TEXT_LIST = "text_list"
    OBJECT = "object"
    LIST = "list"  # a list of ``shape`` objects
    MAP = "map"  # a map of name -> ``shape`` object


NO_DEFAULT: Any = dataclasses.MISSING


@dataclass(frozen=True)
class Field:
    """One key of a YAML mapping and the model attribute it fills."""

    key: str
    kind: Kind
    description: str
    attr: str = ""  # the model attribute; the key when empty
    enum: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None  # a regular expression the text must match
    pattern_hint: str = ""  # what the pattern means, for messages
    required: bool = False
    protocols: tuple[str, ...] = ()  # listener knobs: who takes it; () for all
    shape: Shape | None = None
    coerce: type | None = None  # the model's enum type for ENUM values
    enum_hint: str = ""  # how messages list the allowed values, when not plain
    # ENUM: a target may add values of its own (Target.native_schedulers);
    # validate.py checks them against the load balancer's target.
    target_values: bool = False
    # A load balancer setting of some targets only: those whose class lists
    # it in Target.load_balancer_settings; on the others it is refused.
    per_target: bool = False

    @property
    def target_attr(self) -> str:
        return self.attr or self.key


@dataclass(frozen=True)
class Shape:
    """A YAML mapping: its fields, and the model class it becomes."""

    name: str  # for messages: "listener", "health check", ...
    fields: tuple[Field, ...]
    model: type | None = None
    shorthand: Kind | None = None  # a scalar that stands for the whole object
    shorthand_key: str = ""  # the field the shorthand fills
    open: bool = False  # other keys are allowed (a target's own options)
    description: str = ""

    def field(self, key: str) -> Field | None:
        return next((f for f in self.fields if f.key == key), None)

    def default(self, field: Field) -> Any:
        """The model's default for ``field``, or NO_DEFAULT."""
        if self.model is None:
            return NO_DEFAULT
        for attribute in dataclasses.fields(self.model):
            if attribute.name == field.target_attr:
                return attribute.default
        return NO_DEFAULT


# -- vocabularies -------------------------------------------------------------

PROTOCOLS = tuple(p.value for p in model.Protocol)
PORTABLE_SCHEDULERS = tuple(s.value for s in model.Scheduler)
# Every target takes these; another protocol only a target that declares it
# (``Target.extra_protocols``, asked through ``target_terms``).
PORTABLE_PROTOCOLS = tuple(
    p.value for p in model.Protocol if p is not model.Protocol.TLS
)
MEMBERSHIPS = tuple(m.value for m in model.Membership)
SERVER_TYPES = tuple(t.value for t in model.ServerType)
HEALTH_CHECK_TYPES = ("tcp", "http", "udp")
HEALTH_CHECK_TYPES_BY_PROTOCOL = {
    "tcp": ("tcp", "http"),
    "tls": ("tcp", "http"),
    "udp": ("udp",),
    "http": ("http",),
    "https": ("http",),
}
HTTP_CODES = ("http_2xx", "http_3xx", "http_4xx", "http_5xx")
ADDRESS_TYPES = ("internet", "intranet")
LOAD_BALANCER_TYPES = ("application", "network")
IP_VERSIONS = ("ipv4", "ipv6")
INSTANCE_CHARGE_TYPES = ("PayByCLCU", "PayBySpec")
INTERNET_CHARGE_TYPES = ("paybytraffic", "paybybandwidth")
LOAD_BALANCER_SPECS = (
    "slb.s1.small",
    "slb.s2.small",
    "slb.s2.medium",
    "slb.s3.small",
    "slb.s3.medium",
    "slb.s3.large",
    "slb.s4.large",
    "slb.lcu.elastic",
)
TLS_CIPHER_POLICIES = (
    "tls_cipher_policy_1_0",
    "tls_cipher_policy_1_1",
    "tls_cipher_policy_1_2",
    "tls_cipher_policy_1_2_strict",
    "tls_cipher_policy_1_2_strict_with_1_3",
)
ACL_TYPES = ("white", "black")
STICKY_SESSION_TYPES = ("insert", "server")
HEALTH_CHECK_METHODS = ("head", "get")
CERTIFICATE_KINDS = ("server", "ca")

TCP, UDP, HTTP, HTTPS, TLS = PROTOCOLS
LAYER4 = (TCP, UDP)
LAYER7 = (HTTP, HTTPS)

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9._-]{0,79}$"
ENV_REFERENCE_PATTERN = r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}$"
"""A whole value taken from the environment, for the schema's number fields."""
NAME_HINT = "1 to 80 letters, digits, '.', '_' or '-', starting with a letter"


# -- shapes, innermost first ----------------------------------------------------


def _port(key: str, description: str, **extra: Any) -> Field:
    return Field(key, Kind.INT, description, minimum=1, maximum=65535, **extra)


SERVER = Shape(
    "server",
    (
        Field(
            "id",
            Kind.TEXT,
            "Cloud instance id: ECS (i-...), ENI (eni-...) or ECI (eci-...).",
            min_length=1,
            max_length=128,
        ),
        Field(
            "address",
            Kind.TEXT,
            "IP address or host name: on-prem servers, ip-type servers, and the "
            "ServerIp of eni/eci servers.",
            min_length=1,
            max_length=253,
        ),
        _port("port", "Port the server listens on.", required=True),
        Field(
            "weight",
            Kind.INT,
            "Share of traffic; 0 sends none.",
            minimum=0,
            maximum=100,
        ),
        Field(
            "type",
            Kind.ENUM,
            "What kind of server this is.",
            enum=SERVER_TYPES,
            coerce=model.ServerType,
        ),
        Field(
            "description",
            Kind.TEXT,
            "Free text shown beside the server.",
            max_length=80,
        ),
    ),
    model.Server,
    description="A backend server: give id, or address, or both (eni/eci).",
)

DISCOVERY = Shape(
    "discover",
    (
        Field(
            "instance_tags",
            Kind.TAGS,
            "Running ECS instances carrying all of these tags join the group.",
            required=True,
        ),
        _port("port", "Port the discovered servers listen on.", required=True),
        Field(
            "weight",
            Kind.INT,
            "Weight of each discovered server.",
            minimum=0,
            maximum=100,
        ),
        Field("vpc_id", Kind.TEXT, "Only instances in this VPC.", min_length=1),
    ),
    model.Discovery,
    description="How a discovered group finds its servers.",
)

SERVER_GROUP = Shape(
    "server group",
    (
        Field(
            "membership",
            Kind.ENUM,
            "Who decides the members: static (listed here), discovered (by "
            "instance tags) or external (register calls, auto scaling).",
            enum=MEMBERSHIPS,
            coerce=model.Membership,
        ),
        Field("servers", Kind.LIST, "The members of a static group.", shape=SERVER),
        Field(
            "discover",
            Kind.OBJECT,
            "How a discovered group finds its members.",
            shape=DISCOVERY,
        ),
        Field("tags", Kind.TAGS, "Tags on the server group."),
    ),
    model.ServerGroup,
    description="A named group of backend servers that listeners send traffic to.",
)

HEALTH_CHECK = Shape(
    "health check",
    (
        Field("enabled", Kind.BOOL, "Whether servers are checked at all."),
        Field(
            "type",
            Kind.ENUM,
            "tcp or http on tcp listeners, udp on udp listeners, http on http and "
            "https listeners. Default: tcp, udp or http, after the listener.",
            enum=HEALTH_CHECK_TYPES,
        ),
        Field("interval", Kind.DURATION, "Time between checks.", minimum=1, maximum=50),
        Field(
            "timeout",
            Kind.DURATION,
            "How long a check may take.",
            minimum=1,
            maximum=300,
        ),
        Field(
            "healthy",
            Kind.INT,
            "Passed checks in a row that make a server healthy.",
            attr="healthy_threshold",
            minimum=2,
            maximum=10,
        ),
        Field(
            "unhealthy",
            Kind.INT,
            "Failed checks in a row that make a server unhealthy.",
            attr="unhealthy_threshold",
            minimum=2,
            maximum=10,
        ),
        _port("port", "Port to check; the server's own port when left out."),
        Field(
            "path",
            Kind.TEXT,
            "Request path of an http check, e.g. /healthz.",
            pattern=r"^/[A-Za-z0-9/._%?#&=-]{1,79}$",
            pattern_hint="a path of 2 to 80 characters starting with / (not / alone)",
        ),
        Field(
            "domain",
            Kind.TEXT,
            "Host header of an http check; $_ip for the server's own address.",
            pattern=r"^(\$_ip|[A-Za-z0-9.-]{1,80})$",
            pattern_hint="$_ip or 1 to 80 letters, digits, '.' or '-'",
        ),
        Field(
            "http_codes",
            Kind.TEXT_LIST,
            "Status classes that count as healthy for an http check.",
            enum=HTTP_CODES,
        ),
        Field(
            "method",
            Kind.ENUM,
            "Request method of an http check (http and https listeners).",
            enum=HEALTH_CHECK_METHODS,
        ),
        Field(
            "request",
            Kind.TEXT,
            "Payload a udp check sends.",
            attr="udp_request",
            pattern=r"^[A-Za-z0-9]{1,64}$",
            pattern_hint="1 to 64 letters or digits",
        ),
        Field(
            "expect",
            Kind.TEXT,
            "Answer a udp check expects.",
            attr="udp_expect",
            pattern=r"^[A-Za-z0-9]{1,64}$",
            pattern_hint="1 to 64 letters or digits",
        ),
    ),
    model.HealthCheck,
    shorthand=Kind.BOOL,
    shorthand_key="enabled",
    description="How the load balancer checks its servers; false turns checks off.",
)

STICKY_SESSION = Shape(
    "sticky session",
    (
        Field(
            "type",
            Kind.ENUM,
            "insert: the load balancer sets a cookie; server: it follows the "
            "server's own cookie.",
            enum=STICKY_SESSION_TYPES,
        ),
        Field(
            "cookie",
            Kind.TEXT,
            "Name of the server's cookie (type server).",
            pattern=r"^[^$,; ][^,; ]{0,199}$",
            pattern_hint="1 to 200 characters without ',', ';' or spaces, not "
            "starting with $",
        ),
        Field(
            "cookie_timeout",
            Kind.DURATION,
            "Lifetime of the inserted cookie (type insert).",
            minimum=1,
            maximum=86400,
        ),
    ),
    model.StickySession,
    description="Send a client's requests to the same server.",
)

X_FORWARDED_FOR = Shape(
    "x_forwarded_for",
    (
        Field("enabled", Kind.BOOL, "Add X-Forwarded-For with the client address."),
        Field("slb_ip", Kind.BOOL, "Add SLB-IP with the load balancer's address."),
        Field("slb_id", Kind.BOOL, "Add SLB-ID with the load balancer's id."),
        Field("proto", Kind.BOOL, "Add X-Forwarded-Proto."),
        Field("slb_port", Kind.BOOL, "Add X-Forwarded-Port."),
        Field("client_src_port", Kind.BOOL, "Add X-Forwarded-Client-srcport."),
    ),
    model.XForwardedFor,
    shorthand=Kind.BOOL,
    shorthand_key="enabled",
    description="Headers an http(s) listener adds; true or false for "
    "X-Forwarded-For alone.",
)

ACL_BINDING = Shape(
    "acl",
    (
        Field(
            "name",
            Kind.TEXT,
            "Name of an ACL under acls.",
            attr="acl",
            required=True,
            min_length=1,
        ),
        Field(
            "type",
            Kind.ENUM,
            "white: only listed addresses get in; black: listed ones are kept out.",
            enum=ACL_TYPES,
        ),
    ),
    model.AclBinding,
    shorthand=Kind.TEXT,
    shorthand_key="name",
    description="An ACL applied to the listener; a name alone means a white list.",
)

RULE = Shape(
    "rule",
    (
        Field(
            "name",
            Kind.TEXT,
            "Name of the rule, unique per listener.",
            required=True,
            pattern=r"^.{1,40}$",
            pattern_hint="1 to 40 characters",
        ),
        Field(
            "domain",
            Kind.TEXT,
            "Host the rule matches, e.g. chat.example.com or *.example.com.",
            min_length=1,
            max_length=80,
        ),
        Field(
            "url",
            Kind.TEXT,
            "Path prefix the rule matches, e.g. /api.",
            pattern=r"^/.{1,79}$",
            pattern_hint="2 to 80 characters starting with / (not / alone)",
        ),
        Field(
            "server_group",
            Kind.TEXT,
            "Server group of this load balancer that gets the matching requests.",
            required=True,
        ),
    ),
    model.ForwardingRule,
    description="A forwarding rule: requests for a domain and/or path go to a group.",
)

LISTENER = Shape(
    "listener",
    (
        Field(
            "protocol",
            Kind.ENUM,
            "What the listener speaks; tls (TLS ended at the load balancer, TCP "
            "to the servers) on aws-elbv2 targets only.",
            enum=PROTOCOLS,
            required=True,
            coerce=model.Protocol,
        ),
        _port("port", "Port the load balancer listens on.", required=True),
        Field(
            "server_group",
            Kind.TEXT,
            "Server group that gets the traffic; needed unless redirect_to_port.",
        ),
        _port("backend_port", "Port on the servers, when it is not theirs."),
        Field(
            "scheduler",
            Kind.ENUM,
            "How servers are picked: round_robin, weighted_round_robin, "
            "least_connections or source_hash.",
            enum=PORTABLE_SCHEDULERS,
            target_values=True,
        ),
        Field(
            "bandwidth",
            Kind.INT,
            "Peak bandwidth in Mbit/s; -1 for no limit.",
            minimum=-1,
            maximum=5120,
        ),
        Field(
            "description",
            Kind.TEXT,
            "Free text shown beside the listener.",
            min_length=1,
            max_length=256,
        ),
        Field(
            "health_check",
            Kind.OBJECT,
            "How servers are checked.",
            shape=HEALTH_CHECK,
        ),
        Field("acl", Kind.OBJECT, "Access control list.", shape=ACL_BINDING),
        Field(
            "persistence_timeout",
            Kind.DURATION,
            "Keep a client on one server for this long; 0 is off.",
            minimum=0,
            maximum=3600,
            protocols=(TCP,),
        ),
        Field(
            "established_timeout",
            Kind.DURATION,
            "Idle time after which an established connection is closed.",
            minimum=10,
            maximum=900,
            protocols=(TCP,),
        ),
        Field(
            "connection_drain",
            Kind.DURATION_OR_OFF,
            "How long a removed server keeps its open connections; off to cut "
            "them at once.",
            minimum=10,
            maximum=900,
            protocols=(TCP, TLS),
        ),
        Field(
            "proxy_protocol",
            Kind.BOOL,
            "Pass the client address to servers with PROXY protocol v2.",
            protocols=(*LAYER4, TLS),
        ),
        Field(
            "sticky_session",
            Kind.OBJECT,
            "Keep a client on one server by cookie.",
            shape=STICKY_SESSION,
            protocols=LAYER7,
        ),
        Field(
            "x_forwarded_for",
            Kind.OBJECT,
            "Forwarding headers added to requests.",
            shape=X_FORWARDED_FOR,
            protocols=LAYER7,
        ),
        Field("gzip", Kind.BOOL, "Compress responses.", protocols=LAYER7),
        Field(
            "idle_timeout",
            Kind.DURATION,
            "Idle time after which a keep-alive connection is closed.",
            minimum=1,
            maximum=60,
            protocols=LAYER7,
        ),
        Field(
            "request_timeout",
            Kind.DURATION,
            "How long a server may take to answer before the client gets a 504.",
            minimum=1,
            maximum=180,
            protocols=LAYER7,
        ),
        _port(
            "redirect_to_port",
            "Redirect every request to the https listener on this port.",
            protocols=(HTTP,),
        ),
        Field(
            "rules",
            Kind.LIST,
            "Forwarding rules by domain and path.",
            shape=RULE,
            protocols=LAYER7,
        ),
        Field(
            "certificate",
            Kind.TEXT,
            "Name of a server certificate under certificates; on aws-elbv2 "
            "targets the certificate's ARN; on alibaba-slb targets also "
            "id:<certificate id> for a certificate uploaded by other means.",
            protocols=(HTTPS, TLS),
        ),
        Field(
            "ca_certificate",
            Kind.TEXT,
            "Name of a CA certificate under certificates: clients must present a "
            "certificate it signed (mutual TLS).",
            protocols=(HTTPS,),
        ),
        Field("http2", Kind.BOOL, "Offer HTTP/2.", protocols=(HTTPS,)),
        Field(
            "tls_cipher_policy",
            Kind.ENUM,
            "TLS versions and ciphers offered.",
            enum=TLS_CIPHER_POLICIES,
            protocols=(HTTPS,),
        ),
    ),
    model.Listener,
    description="A port the load balancer listens on and where it sends traffic.",
)

LOAD_BALANCER = Shape(
    "load balancer",
    (
        Field("target", Kind.TEXT, "Name of a target under targets.", required=True),
        Field(
            "address_type",
            Kind.ENUM,
            "internet for a public address, intranet for one inside the VPC.",
            enum=ADDRESS_TYPES,
            per_target=True,
        ),
        Field(
            "address_ip_version",
            Kind.ENUM,
            "IP version.",
            enum=IP_VERSIONS,
            per_target=True,
        ),
        Field(
            "vswitch_id",
            Kind.TEXT,
            "VSwitch of an intranet load balancer.",
            min_length=1,
            per_target=True,
        ),
        Field(
            "vpc_id",
            Kind.TEXT,
            "VPC of an intranet load balancer.",
            min_length=1,
            per_target=True,
        ),
        Field(
            "instance_charge_type",
            Kind.ENUM,
            "PayByCLCU (by capacity units used; new instances can only be this) "
            "or PayBySpec (existing instances).",
            enum=INSTANCE_CHARGE_TYPES,
            per_target=True,
        ),
        Field(
            "spec",
            Kind.ENUM,
            "Instance spec of a PayBySpec load balancer.",
            enum=LOAD_BALANCER_SPECS,
            per_target=True,
        ),
        Field(
            "internet_charge_type",
            Kind.ENUM,
            "Pay for internet traffic by volume or by bandwidth.",
            enum=INTERNET_CHARGE_TYPES,
            per_target=True,
        ),
        Field(
            "bandwidth",
            Kind.INT,
            "Peak bandwidth in Mbit/s (internet_charge_type paybybandwidth).",
            minimum=1,
            maximum=5120,
            per_target=True,
        ),
        Field(
            "deletion_protection",
            Kind.BOOL,
            "Refuse deletes until turned off.",
            per_target=True,
        ),
        Field(
            "modification_protection",
            Kind.BOOL,
            "Refuse changes made in the console.",
            per_target=True,
        ),
        Field(
            "modification_protection_reason",
            Kind.TEXT,
            "Why modification protection is on.",
            pattern=r"^[A-Za-z].{0,79}$",
            pattern_hint="1 to 80 characters starting with a letter",
            per_target=True,
        ),
        Field(
            "resource_group_id",
            Kind.TEXT,
            "Resource group.",
            min_length=1,
            per_target=True,
        ),
        Field(
            "master_zone_id", Kind.TEXT, "Primary zone.", min_length=1, per_target=True
        ),
        Field(
            "slave_zone_id", Kind.TEXT, "Standby zone.", min_length=1, per_target=True
        ),
        Field(
            "type",
            Kind.ENUM,
            "Application or network; left out, network when a "
            "listener is tcp or udp, application otherwise.",
            enum=LOAD_BALANCER_TYPES,
            per_target=True,
        ),
        Field(
            "subnets",
            Kind.TEXT_LIST,
            "Subnet ids the load balancer sits in (an application "
            "load balancer needs two zones).",
            per_target=True,
        ),
        Field(
            "security_groups",
            Kind.TEXT_LIST,
            "Security group ids of the load balancer.",
            per_target=True,
        ),
        Field("tags", Kind.TAGS, "Tags on the load balancer.", per_target=True),
        Field(
            "adopt",
            Kind.BOOL,
            "Take over an existing load balancer of this name that slbsync did "
            "not create.",
        ),
        Field(
            "server_groups",
            Kind.MAP,
            "Server groups by name.",
            shape=SERVER_GROUP,
        ),
        Field("listeners", Kind.LIST, "Listeners.", shape=LISTENER),
    ),
    model.LoadBalancer,
    description="A load balancer on one target.",
)

PER_TARGET_LB_FIELDS = frozenset(
    rule.target_attr for rule in LOAD_BALANCER.fields if rule.per_target
)
"""Load balancer settings some targets take and others refuse."""

ACL_ENTRY = Shape(
    "acl entry",
    (
        Field("cidr", Kind.TEXT, "An address block, e.g. 10.0.0.0/8.", required=True),
        Field("comment", Kind.TEXT, "Why the block is listed.", max_length=100),
    ),
    model.AclEntry,
    shorthand=Kind.TEXT,
    shorthand_key="cidr",
    description="An address block, alone or with a comment.",
)

ACL = Shape(
    "acl",
    (
        Field("target", Kind.TEXT, "Name of a target under targets.", required=True),
        Field("entries", Kind.LIST, "Address blocks.", shape=ACL_ENTRY),
        Field("address_ip_version", Kind.ENUM, "IP version.", enum=IP_VERSIONS),
        Field("tags", Kind.TAGS, "Tags on the ACL."),
    ),
    model.Acl,
    description="An access control list that listeners refer to by name.",
)

CERTIFICATE = Shape(
    "certificate",
    (
        Field("target", Kind.TEXT, "Name of a target under targets.", required=True),
        Field(
            "kind",
            Kind.ENUM,
            "server: presented to clients; ca: checks client certificates.",
            enum=CERTIFICATE_KINDS,
        ),
        Field(
            "certificate",
            Kind.TEXT,
            "PEM file of the certificate (and chain), relative to the spec file.",
            attr="certificate_file",
            required=True,
            min_length=1,
        ),
        Field(
            "private_key",
            Kind.TEXT,
            "PEM file of the unencrypted private key of a server certificate, "
            "relative to the spec file; read at apply time, never stored.",
            attr="private_key_file",
            min_length=1,
        ),
    ),
    model.Certificate,
    description="A certificate uploaded from PEM files.",
)

TARGET = Shape(
    "target",
    (
        Field(
            "type",
            Kind.ENUM,
            "Kind of load balancer.",
            required=True,
            enum=tuple(known_target_types()),
        ),
        Field(
            "region",
            Kind.TEXT,
            "Region of a cloud target, e.g. cn-hangzhou or eu-west-1; left out, "
            "the target's default (aws-elbv2: boto3's own chain).",
            pattern=r"^[a-z0-9-]{2,64}$",
            pattern_hint="a region id such as cn-hangzhou",
        ),
        Field(
            "endpoint",
            Kind.TEXT,
            "API endpoint: a host name or URL; local for the embedded emulator; "
            "left out for the region's own.",
            pattern=r"^(local|(https?://)?[A-Za-z0-9.-]+(:\d{1,5})?(/\S*)?)$",
            pattern_hint="local, a host name such as slb.cn-hangzhou.aliyuncs.com, "
            "or an http(s):// URL",
        ),
        Field(
            "profile",
            Kind.TEXT,
            "Profile of the credentials file to use (the credentials chain "
            "decides when left out).",
            min_length=1,
        ),
        Field(
            "lock",
            Kind.TEXT,
            "Lock that keeps two runs on one load balancer apart: file (lock "
            "files in /var/lib/slbsync/locks), file:///a/directory for lock "
            "files there, or a redis:// URL when runs happen on several hosts. "
            "--lock-dir overrides the directory.",
            pattern=r"^(file(:///\S+)?|(rediss?|unix)://\S+)$",
            pattern_hint="file, file:///an/absolute/directory, or a redis://, "
            "rediss:// or unix:// URL",
        ),
    ),
    model.TargetSpec,
    open=True,
    description="Where load balancers live. Other keys are the target type's own "
    "options (owner, config_path, runtime_socket, ...).",
)

SECTIONS: dict[str, Shape] = {
    "targets": TARGET,
    "load_balancers": LOAD_BALANCER,
    "acls": ACL,
    "certificates": CERTIFICATE,
}
"""The top level of a spec document: each a map of name -> object."""

EXTENSION_PREFIX = "x-"
"""Top-level keys starting with this are ignored: a place to define anchors."""

SECTION_DESCRIPTIONS = {
    "targets": "Targets by name: the kinds of load balancer and where they are.",
    "load_balancers": "Load balancers by name.",
    "acls": "Access control lists by name.",
    "certificates": "Certificates by name.",
}
