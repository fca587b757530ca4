
mod entities;
