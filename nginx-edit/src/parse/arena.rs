//! The arena a parse builds: one 12-byte node per directive or comment,
//! in pre-order, with byte offsets into the source (nothing copied).

/// How a directive ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `name args;`
    None,
    /// `name args { directives }`
    Block,
    /// `map`-like: `name args { key value; ... }`
    KeyValue,
    /// `*_by_lua_block { lua }`
    Lua,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeKind {
    Directive(BodyKind),
    /// A `#` comment. `in_args` marks one that sits between the arguments
    /// of a directive; it is stored after that directive, as crossplane
    /// reports it.
    Comment {
        in_args: bool,
    },
}

impl NodeKind {
    pub(super) fn code(self) -> u32 {
        match self {
            NodeKind::Directive(BodyKind::None) => 0,
            NodeKind::Directive(BodyKind::Block) => 1,
            NodeKind::Directive(BodyKind::KeyValue) => 2,
            NodeKind::Directive(BodyKind::Lua) => 3,
            NodeKind::Comment { in_args: false } => 4,
            NodeKind::Comment { in_args: true } => 5,
        }
    }

    fn from_code(code: u32) -> NodeKind {
        match code {
            0 => NodeKind::Directive(BodyKind::None),
            1 => NodeKind::Directive(BodyKind::Block),
            2 => NodeKind::Directive(BodyKind::KeyValue),
            3 => NodeKind::Directive(BodyKind::Lua),
            4 => NodeKind::Comment { in_args: false },
            _ => NodeKind::Comment { in_args: true },
        }
    }
}

/// Bits of `Node::meta` that hold the token count; the kind sits above.
pub(super) const COUNT_BITS: u32 = 28;
pub(super) const COUNT_MASK: u32 = (1 << COUNT_BITS) - 1;
/// The kind's bits, above the count.
const KIND_MASK: u32 = 0b111;
/// The top bit of `Node::meta`: see [`Node::split_by_comment`].
pub(super) const SPLIT_BY_COMMENT: u32 = 1 << 31;

/// One directive or comment, in 12 bytes (a big config has one per line,
/// and the parser's memory goal counts them). Children of a block
/// directive are the nodes `self_index + 1 .. next`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    /// Index in the token arena of the name (directives) or of the `#`
    /// (comments); the node starts at that token.
    pub tok_first: u32,
    /// Token count (name included; 0 for comments), kind, and
    /// [`SPLIT_BY_COMMENT`].
    pub(super) meta: u32,
    /// For a block that can hold children (`{ directives }`, `{ key value; }`):
    /// the index of the node after its subtree; its end is in
    /// [`Parsed::block_ends`]. For any other node (no children, so the next
    /// node is the following index): one past its last byte, after `;`,
    /// after a Lua block's `}`, or the comment's end.
    pub(super) link: u32,
}

impl Node {
    pub fn kind(&self) -> NodeKind {
        NodeKind::from_code((self.meta >> COUNT_BITS) & KIND_MASK)
    }

    /// Whether a comment sits between two of the directive's tokens (so
    /// the bytes between them are not all whitespace).
    pub fn split_by_comment(&self) -> bool {
        self.meta & SPLIT_BY_COMMENT != 0
    }

    /// One past the last byte of a node that holds no children.
    pub fn leaf_end(&self) -> Option<u32> {
        (!self.is_parent()).then_some(self.link)
    }

    pub fn tok_count(&self) -> u32 {
        self.meta & COUNT_MASK
    }

    /// Whether `link` is the next sibling's index (a block that can hold
    /// children) rather than the end offset.
    fn is_parent(&self) -> bool {
        matches!(
            self.kind(),
            NodeKind::Directive(BodyKind::Block | BodyKind::KeyValue)
        )
    }
}

/// Where nodes end and which node follows them: the arena of a parse.
pub(crate) trait Arena {
    fn nodes(&self) -> &[Node];
    fn block_ends(&self) -> &[(u32, u32)];

    /// The node after `id`'s subtree.
    fn next_of(&self, id: u32) -> u32 {
        let node = &self.nodes()[id as usize];
        if node.is_parent() {
            node.link
        } else {
            id + 1
        }
    }

    /// One past the last byte of node `id`.
    fn end_of(&self, id: u32) -> u32 {
        let node = &self.nodes()[id as usize];
        if !node.is_parent() {
            return node.link;
        }
        let ends = self.block_ends();
        match ends.binary_search_by_key(&id, |&(n, _)| n) {
            Ok(i) => ends[i].1,
            Err(_) => node.link, // unreachable for a finished parse
        }
    }
}
